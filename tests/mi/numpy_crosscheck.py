"""Independent check of dim-mi against NumPy transcriptions of the reference formulas.

Usage: numpy_crosscheck.py DIM_MI WORKDIR. Builds random features, runs dim-mi for every
estimator in float64, and compares the loss with a direct NumPy evaluation (the authors' infoNCE
through its full logits tensor and log-softmax) and both gradients with central finite
differences of that NumPy loss. Exits non-zero on any mismatch.
"""
import os
import subprocess
import sys

import numpy as np

LOG2 = np.log(2.0)


def sp(x):
    return np.logaddexp(0.0, x)


def split(L, G):
    B, K, P = G.shape[0], G.shape[1], L.shape[1]
    S = np.einsum("ikd,jpd->ikjp", G, L)  # (B, K, B, P)
    same = np.zeros((B, K, B, P), dtype=bool)
    for i in range(B):
        same[i, :, i, :] = True
    return S, S[same], S[~same]


FDIV = {  # (E_pos, E_neg) of the reference table
    "gan": (lambda s: -sp(-s), lambda s: sp(-s) + s),
    "jsd": (lambda s: LOG2 - sp(-s), lambda s: sp(-s) + s - LOG2),
    "kl": (lambda s: s, lambda s: np.exp(s - 1)),
    "rkl": (lambda s: -np.exp(-s), lambda s: s - 1),
    "h2": (lambda s: 1 - np.exp(-s), lambda s: np.exp(s) - 1),
    "x2": (lambda s: s**2, lambda s: -0.5 * (np.sqrt(s**2) + 1) ** 2),
    "w1": (lambda s: s, lambda s: s),
}


def loss(name, L, G):
    S, pos, neg = split(L, G)
    if name in FDIV:
        e_pos, e_neg = FDIV[name]
        return e_neg(neg).mean() - e_pos(pos).mean()
    if name == "dv":
        m = neg.max()
        return m + np.log(np.exp(neg - m).mean()) - pos.mean()
    B, K, _, P = S.shape
    total = 0.0
    for i in range(B):
        for k in range(K):
            others = np.delete(S[i, k], i, axis=0).ravel()
            if name == "infonce":
                others = np.concatenate([others, np.full(P, -10.0)])
            for p in range(P):
                logits = np.concatenate([[S[i, k, i, p]], others])
                m = logits.max()
                total -= logits[0] - (m + np.log(np.exp(logits - m).sum()))
    return total / (B * K * P)


def main():
    dim_mi, work = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(7)
    B, P, D, K = 4, 3, 5, 2
    L = rng.normal(size=(B, P, D)) * 0.7
    G = rng.normal(size=(B, K, D)) * 0.7
    np.save(os.path.join(work, "L.npy"), L)
    np.save(os.path.join(work, "G.npy"), G)
    failures = 0
    for name in ["jsd", "gan", "kl", "rkl", "h2", "x2", "w1", "dv", "infonce", "infonce-exact"]:
        out = os.path.join(work, "out_" + name)
        subprocess.run([dim_mi, "--local", os.path.join(work, "L.npy"), "--global", os.path.join(work, "G.npy"),
                        "--estimator", name, "--out", out], check=True, capture_output=True)
        got = float(np.load(os.path.join(out, "loss.npy")))
        want = loss(name, L, G)
        if abs(got - want) > 1e-12 * max(1.0, abs(want)):
            print(f"{name}: loss {got!r} != numpy {want!r}")
            failures += 1
        for arr, fname, is_local in ((L, "grad_local.npy", True), (G, "grad_global.npy", False)):
            grad = np.load(os.path.join(out, fname))
            fd = np.zeros_like(arr)
            for idx in np.ndindex(arr.shape):
                h = 1e-6
                up, down = arr.copy(), arr.copy()
                up[idx] += h
                down[idx] -= h
                lu = loss(name, up, G) if is_local else loss(name, L, up)
                ld = loss(name, down, G) if is_local else loss(name, L, down)
                fd[idx] = (lu - ld) / (2 * h)
            err = np.abs(fd - grad).max() / max(np.abs(fd).max(), 1e-12)
            if err > 1e-6:
                print(f"{name}: {fname} differs from finite differences by {err:.3g} (relative)")
                failures += 1
    print(f"numpy cross-check: {failures} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
