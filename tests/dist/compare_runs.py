#!/usr/bin/env python3
"""Exits 0 when two dim-train --out folders hold bit-identical checkpoint tensors and the same
metrics (timing fields aside); otherwise names what differs. Reads safetensors directly: an
8-byte little-endian header length, a JSON header, then the raw tensor bytes."""
import json
import struct
import sys


def tensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    return {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items()}


def metrics(folder):
    out = []
    with open(folder + "/metrics.jsonl") as f:
        for line in f:
            j = json.loads(line)
            j.pop("wall_seconds", None)
            j.pop("images_per_second", None)
            out.append(j)
    return out


a, b = sys.argv[1], sys.argv[2]
ta, tb = tensors(a + "/checkpoint.safetensors"), tensors(b + "/checkpoint.safetensors")
bad = sorted(k for k in set(ta) | set(tb) if ta.get(k) != tb.get(k))
if bad:
    sys.exit(f"{len(bad)} of {len(ta)} tensors differ between {a} and {b}, e.g. {bad[:3]}")
if metrics(a) != metrics(b):
    sys.exit(f"metrics differ between {a} and {b}:\n{metrics(a)}\n{metrics(b)}")
print(f"same: {len(ta)} tensors, {len(metrics(a))} metric lines")
