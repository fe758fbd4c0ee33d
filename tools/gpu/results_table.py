#!/usr/bin/env python3
"""Turns the files a GPU run brought back (the results folder of run.sh) into the Markdown
section of bench/RESULTS.md: the steps with their verdicts, the MI kernels beside PyTorch's
formulations of the same losses, and the training step beside PyTorch's, as ratios of figures
measured in the same run.

  tools/gpu/results_table.py RESULTS_DIR                      prints the section
  tools/gpu/results_table.py RESULTS_DIR --update bench/RESULTS.md
                                                              replaces the section between the
                                                              gpu-results markers (appends it
                                                              with its markers the first time)
A run whose GPU steps were all skipped (a dry run) yields a section that says so: nothing is
reported that was not measured.
"""
import argparse
import json
import os
import re
import sys

BEGIN, END = "<!-- gpu-results:begin -->", "<!-- gpu-results:end -->"
GPU_STEPS = ("gpu-info", "cuda-backend-tests", "kernel-ops-tests", "mi-cuda-tests", "simt-crosscheck",
             "bench-mi", "train", "memcheck", "racecheck")


def jsonl(path):
    rows = []
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
    return rows


def read_summary(path):
    """(header lines, [(step, result, time, detail)]) from summary.txt."""
    if not os.path.exists(path):
        sys.exit(f"results_table.py: {path} not found (is this a run.sh results folder?)")
    header, steps, in_table = [], [], False
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("step "):
            in_table = True
            continue
        if not in_table:
            if line.strip():
                header.append(line.strip())
            continue
        m = re.match(r"(\S+)\s+(\S+(?: RUN)?)\s+(\S+)\s+(.*)", line)
        if m:
            steps.append(m.groups())
    return header, steps


def md_escape(text):
    return text.replace("|", "\\|")


def section(results):
    header, steps = read_summary(os.path.join(results, "summary.txt"))
    verdicts = {s[0]: s[1] for s in steps}
    ran_on_gpu = any(verdicts.get(s) not in (None, "SKIP", "NOT RUN") for s in GPU_STEPS)
    out = [BEGIN, "## GPU (tools/gpu-bundle.sh, run.sh)", ""]
    title = header[0] if header else "GPU check"
    if not ran_on_gpu:
        out += ["Not yet run on a GPU. The last run of the bundle's `run.sh` was on a machine without one",
                f"({md_escape(title)}); every GPU step was skipped, with its reason:", ""]
    else:
        out += [f"- {md_escape(line)}" for line in header] + [""]
    out += ["| step | result | time | detail |", "|---|---|---:|---|"]
    out += [f"| {s} | {r} | {t} | {md_escape(d)} |" for s, r, t, d in steps]
    out.append("")
    if not ran_on_gpu:
        out.append(END)
        return "\n".join(out) + "\n"

    bench = [r for r in jsonl(os.path.join(results, "bench-mi-cuda.jsonl")) if "fwd_bwd_ms" in r]
    torch_rows = jsonl(os.path.join(results, "torch-baseline.jsonl"))
    torch_mi = [r for r in torch_rows if r.get("what") == "mi"]
    meta = next((r for r in torch_rows if "torch" in r), None)
    if bench:
        out += ["### MI kernels: `dim-bench mi --device cuda` beside PyTorch (same GPU, same run)", ""]
        if meta:
            out += [f"PyTorch {meta['torch']} (CUDA {meta['cuda']}, cuDNN {meta['cudnn']}), TF32 off in both.", ""]
        out += ["| estimator | B | P | D | engine fused fwd+bwd ms | engine unfused ms | PyTorch authors ms | "
                "PyTorch best ms | best PyTorch / fused |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        cases = sorted({(r["estimator"], r["B"], r["P"], r["D"]) for r in bench})
        for est, B, P, D in cases:
            def ms(rows, **kw):
                for r in rows:
                    if all(r.get(k) == v for k, v in kw.items()) and r.get("fwd_bwd_ms") is not None:
                        return r["fwd_bwd_ms"]
                return None
            fused = ms(bench, estimator=est, B=B, P=P, D=D, impl="fused")
            unfused = ms(bench, estimator=est, B=B, P=P, D=D, impl="unfused")
            authors = ms(torch_mi, estimator=est, B=B, P=P, D=D, formulation="authors")
            best_candidates = [v for v in (ms(torch_mi, estimator=est, B=B, P=P, D=D, formulation=f)
                                           for f in ("authors", "lean", "lse")) if v is not None]
            best = min(best_candidates) if best_candidates else None
            cell = lambda v: f"{v:.3f}" if v is not None else "—"
            ratio = f"{best / fused:.2f}×" if best is not None and fused else "—"
            out.append(f"| {est} | {B} | {P} | {D} | {cell(fused)} | {cell(unfused)} | {cell(authors)} | "
                       f"{cell(best)} | {ratio} |")
        out.append("")
    steps_torch = [r for r in torch_rows if r.get("what") == "train_step"]
    train_log = os.path.join(results, "run.log")
    engine_ips = None
    if os.path.exists(train_log):
        for line in open(train_log):
            m = re.search(r"\| (\d+) img/s", line)
            if m:
                engine_ips = float(m.group(1))
    if engine_ips or steps_torch:
        out += ["### DIM(L) training step, batch 64 (images/s)", "",
                "| what | images/s | × PyTorch mnist28/512 |", "|---|---:|---:|"]
        ref = next((r["images_per_s"] for r in steps_torch if r["encoder"] == "mnist28"), None)
        if engine_ips:
            ratio = f"{engine_ips / ref:.2f}×" if ref else "—"
            out.append(f"| dim-train --device cuda, mnist28, 512 units (whole epoch, probes included) | "
                       f"{engine_ips:.0f} | {ratio} |")
        for r in steps_torch:
            ratio = f"{r['images_per_s'] / ref:.2f}×" if ref else "—"
            out.append(f"| PyTorch step, {r['encoder']}, {r['units']} units | {r['images_per_s']:.0f} | {ratio} |")
        out.append("")
    out.append(END)
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description="GPU results folder -> bench/RESULTS.md section")
    p.add_argument("results")
    p.add_argument("--update", metavar="RESULTS_MD")
    a = p.parse_args()
    text = section(a.results)
    if not a.update:
        sys.stdout.write(text)
        return
    doc = open(a.update).read() if os.path.exists(a.update) else ""
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + text.rstrip("\n") + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    with open(a.update, "w") as f:
        f.write(doc)
    print(f"results_table.py: updated {a.update}")


if __name__ == "__main__":
    main()
