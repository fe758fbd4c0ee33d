#!/usr/bin/env python3
"""The PyTorch baseline of the GPU run: the same MI losses at the same sizes as
`dim-bench mi --device cuda` (its default cases, K = 1), and DIM(L) training steps, on the same
GPU in the same run, so that every figure of the engine is reported as a ratio to this one.

MI losses over local features L [B, P, D] and global features G [B, K, D], scores
S[(i,k),(j,p)] = G[i,k] . L[j,p], positives j == i (losses/mi/README.md):
  jsd      authors: the whole score tensor, positive/negative masks multiplied in, as the
           reference code's fenchel_dual_loss does; lean: one softplus pass, positives read
           from the block diagonal.
  infonce  authors: their (B*K*P) x (1 + B*P) logits tensor (the same-image scores replaced
           by -10) and its log_softmax, as the reference infonce_loss; lse: the closed form
           sp(N_ik - s_pos), N_ik = log(sum_{j != i} e^s + P e^-10), one logsumexp per row.
Timings: CUDA events, median of --reps after warm-ups, forward and forward+backward.

Training step: encoder (dcgan32 or mnist28, as models/encoder.cpp) + the dot-product local
critic (1x1-conv NIN on the local map, MLP on Y, both to `units`) + the JSD loss + Adam
(1e-4, betas 0.5/0.999), batch 64, as dim-train.

Without torch or a CUDA device it prints one JSON line saying why and exits 77, which the run
script reports as a skip. usage: torch_baseline.py [--reps N] [--max-gb G] [--quick]
"""
import argparse
import json
import math
import sys
import time

MI_CASES = [  # bench/mi/mi_bench.cpp, default_cases(): (estimator, B, P, D)
    *[(e, 256, 64, 512) for e in ("infonce", "jsd")],
    ("infonce", 64, 49, 64), ("infonce", 128, 64, 2048), ("infonce", 64, 225, 64),
    ("infonce", 128, 225, 64), ("infonce", 256, 225, 64), ("infonce", 512, 225, 64),
    ("infonce", 512, 225, 512),
]
LOG2 = math.log(2.0)
SKIPPED = 77  # the exit status run.sh (like ctest) reads as "skipped"


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    p = argparse.ArgumentParser(description="PyTorch baseline of the GPU run")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--max-gb", type=float, default=24.0, help="skip formulations needing more scratch")
    p.add_argument("--quick", action="store_true", help="first MI case and one training step only")
    a = p.parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        emit({"skipped": f"PyTorch is not installed: {e}"})
        return SKIPPED
    if not torch.cuda.is_available():
        emit({"skipped": "torch.cuda.is_available() is False: no CUDA device"})
        return SKIPPED
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False  # the engine computes exact float32 by default
    torch.backends.cudnn.allow_tf32 = False
    emit({"torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
          "device": torch.cuda.get_device_name(0)})

    def timed(fn, reps):
        for _ in range(2):
            fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(reps):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        return sorted(times)[len(times) // 2]

    def scores(l, g):
        B, P, D = l.shape
        K = g.shape[1]
        return (g.reshape(B * K, D) @ l.reshape(B * P, D).t()).view(B, K, B, P)

    def jsd_authors(l, g):
        s = scores(l, g)
        B = l.shape[0]
        pos = torch.eye(B, device=l.device)[:, None, :, None].expand_as(s)
        neg = 1 - pos
        e_pos = (LOG2 - F.softplus(-s)) * pos
        e_neg = (F.softplus(-s) + s - LOG2) * neg
        return e_neg.sum() / neg.sum() - e_pos.sum() / pos.sum()

    def jsd_lean(l, g):
        s = scores(l, g)
        B, K, _, P = s.shape
        sp = F.softplus(-s)
        diag = torch.arange(B, device=l.device)
        s_pos, sp_pos = s[diag, :, diag], sp[diag, :, diag]  # [B, K, P]
        npos, nneg = B * K * P, B * K * (B - 1) * P
        neg_sum = (sp + s).sum() - (sp_pos + s_pos).sum()
        return neg_sum / nneg - LOG2 - (LOG2 * npos - sp_pos.sum()) / npos

    def infonce_authors(l, g):
        B, P, D = l.shape
        K = g.shape[1]
        s = scores(l, g)  # [B, K, B, P]
        own = torch.eye(B, device=l.device, dtype=torch.bool)[:, None, :, None].expand_as(s)
        u_n = s.masked_fill(own, -10.0).reshape(B, K, 1, B * P).expand(B, K, P, B * P)
        u_p = s[torch.arange(B), :, torch.arange(B)].unsqueeze(-1)  # [B, K, P, 1]
        logits = torch.cat([u_p, u_n], dim=-1)
        return -F.log_softmax(logits, dim=-1)[..., 0].mean()

    def infonce_lse(l, g):
        B, P, D = l.shape
        s = scores(l, g)
        own = torch.eye(B, device=l.device, dtype=torch.bool)[:, None, :, None].expand_as(s)
        neg = s.masked_fill(own, float("-inf")).flatten(2)  # [B, K, B*P]
        fill = torch.full(neg.shape[:2] + (1,), math.log(P) - 10.0, device=l.device)
        n = torch.logsumexp(torch.cat([neg, fill], dim=-1), dim=-1)  # [B, K]
        s_pos = s[torch.arange(B), :, torch.arange(B)]  # [B, K, P]
        return F.softplus(n[..., None] - s_pos).mean()

    forms = {"jsd": [("authors", jsd_authors, lambda B, P, K: 4 * B * K * B * P * 4),
                     ("lean", jsd_lean, lambda B, P, K: 3 * B * K * B * P * 4)],
             "infonce": [("authors", infonce_authors, lambda B, P, K: 3 * B * K * P * (1 + B * P) * 4),
                         ("lse", infonce_lse, lambda B, P, K: 3 * B * K * B * P * 4)]}
    cases = MI_CASES[:1] if a.quick else MI_CASES
    K = 1
    for est, B, P, D in cases:
        gen = torch.Generator(device=dev).manual_seed(1)
        half = math.sqrt(3.0 * 2.0 / math.sqrt(D))  # score std about 2, as dim-bench's data
        l0 = (torch.rand(B, P, D, device=dev, generator=gen) * 2 - 1) * half
        g0 = (torch.rand(B, K, D, device=dev, generator=gen) * 2 - 1) * half
        for name, fn, need in forms[est]:
            row = {"what": "mi", "estimator": est, "formulation": name, "B": B, "P": P, "D": D, "K": K}
            gb = need(B, P, K) / 1e9
            if gb > a.max_gb:
                emit({**row, "skipped": f"needs ~{gb:.0f} GB of scratch > {a.max_gb:.0f} GB limit"})
                continue
            l, g = l0.clone().requires_grad_(), g0.clone().requires_grad_()
            with torch.no_grad():
                loss = float(fn(l, g))
            def fwd_only():  # as the engine's forward: no graph recorded
                with torch.no_grad():
                    fn(l, g)

            fwd = timed(fwd_only, a.reps)

            def fwd_bwd():
                l.grad = g.grad = None
                fn(l, g).backward()

            both = timed(fwd_bwd, a.reps)
            flops = 6.0 * (B * K) * (B * P) * D
            emit({**row, "loss": loss, "fwd_ms": fwd, "fwd_bwd_ms": both, "gflops": flops / both / 1e6})
            del l, g
            torch.cuda.empty_cache()

    nn = torch.nn

    class Encoder(nn.Module):
        def __init__(self, arch):
            super().__init__()
            # models/encoder.cpp: conv + BN + ReLU blocks, the local map after block 1, fc 1024, Y 64.
            specs = {"mnist28": (1, 28, [(64, 5, 2, 2), (128, 5, 2, 2)]),
                     "dcgan32": (3, 32, [(64, 4, 2, 1), (128, 4, 2, 1), (256, 4, 2, 1)])}[arch]
            c, size, convs = specs
            self.in_shape = (c, size, size)
            layers = []
            for out, k, s, pad in convs:
                layers.append(nn.Sequential(nn.Conv2d(c, out, k, s, pad), nn.BatchNorm2d(out), nn.ReLU()))
                c, size = out, (size + 2 * pad - k) // s + 1
            self.convs = nn.ModuleList(layers)
            self.local_channels = convs[1][0]
            self.fc = nn.Sequential(nn.Linear(c * size * size, 1024), nn.BatchNorm1d(1024), nn.ReLU())
            self.y = nn.Linear(1024, 64)

        def forward(self, x):
            local = None
            for i, layer in enumerate(self.convs):
                x = layer(x)
                if i == 1:
                    local = x
            return local, self.y(self.fc(x.flatten(1)))

    class DotCritic(nn.Module):
        def __init__(self, local_channels, units):
            super().__init__()
            # models/critics.cpp: NIN with a linear shortcut on the local map, MLP on Y.
            self.l1 = nn.Conv2d(local_channels, units, 1, bias=False)
            self.lbn = nn.BatchNorm2d(units)
            self.l2 = nn.Conv2d(units, units, 1)
            self.lsc = nn.Conv2d(local_channels, units, 1, bias=False)
            self.g1 = nn.Linear(64, units, bias=False)
            self.gbn = nn.BatchNorm1d(units)
            self.g2 = nn.Linear(units, units)
            self.gsc = nn.Linear(64, units, bias=False)

        def forward(self, local, y):
            lf = self.l2(F.relu(self.lbn(self.l1(local)))) + self.lsc(local)
            gf = self.g2(F.relu(self.gbn(self.g1(y)))) + self.gsc(y)
            B, U = gf.shape
            return lf.flatten(2).transpose(1, 2), gf.view(B, 1, U)  # [B, P, U], [B, 1, U]

    steps = [("mnist28", 512), ("dcgan32", 2048)] if not a.quick else [("mnist28", 512)]
    batch = 64
    for arch, units in steps:
        enc = Encoder(arch).to(dev)
        critic = DotCritic(enc.local_channels, units).to(dev)
        opt = torch.optim.Adam(list(enc.parameters()) + list(critic.parameters()), lr=1e-4, betas=(0.5, 0.999))
        x = torch.rand((batch,) + enc.in_shape, device=dev)

        def step():
            opt.zero_grad(set_to_none=True)
            local, y = enc(x)
            l, g = critic(local, y)
            jsd_lean(l, g).backward()
            opt.step()

        ms = timed(step, a.reps)
        emit({"what": "train_step", "encoder": arch, "units": units, "batch": batch, "ms_per_step": ms,
              "images_per_s": batch / ms * 1e3})
    return 0


if __name__ == "__main__":
    sys.exit(main())
