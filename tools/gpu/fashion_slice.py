#!/usr/bin/env python3
"""Writes the first N training and M test images (and labels) of Fashion-MNIST as idx files,
gzip-compressed, for the GPU bundle: dim-train reads them like the whole data set.

usage: fashion_slice.py SRC_DIR DST_DIR [--train N] [--test M]
"""
import argparse
import gzip
import os
import struct
import sys


def read_idx(path):
    # The Debian package ships .gz files; a raw file is read as is.
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            with open(candidate, "rb") as f:
                data = f.read()
            return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    sys.exit(f"fashion_slice.py: {path}[.gz] not found")


def write_slice(src, dst, name, count):
    data = read_idx(os.path.join(src, name))
    magic, total = struct.unpack(">II", data[:8])
    dims = (magic & 0xFF) - 1  # idx: the low byte is the number of dimensions
    header = 4 + 4 * (dims + 1)
    item = 1
    for d in range(dims):
        item *= struct.unpack(">I", data[8 + 4 * d:12 + 4 * d])[0]
    if count > total:
        sys.exit(f"fashion_slice.py: {name} holds {total} items, {count} asked for")
    out = bytearray(data[:header])
    out[4:8] = struct.pack(">I", count)
    out += data[header:header + count * item]
    with gzip.open(os.path.join(dst, name + ".gz"), "wb", compresslevel=9) as f:
        f.write(bytes(out))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--train", type=int, default=4096)
    p.add_argument("--test", type=int, default=1024)
    a = p.parse_args()
    os.makedirs(a.dst, exist_ok=True)
    for name, count in (("train-images-idx3-ubyte", a.train), ("train-labels-idx1-ubyte", a.train),
                        ("t10k-images-idx3-ubyte", a.test), ("t10k-labels-idx1-ubyte", a.test)):
        write_slice(a.src, a.dst, name, count)


if __name__ == "__main__":
    main()
