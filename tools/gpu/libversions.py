#!/usr/bin/env python3
"""Which CUDA libraries an executable loads on this machine, and their versions, beside the
versions the bundle was built with (build-info.txt). Resolution is the dynamic loader's
(ldd, under the environment run.sh set up); versions are asked from each library itself
(cudaRuntimeGetVersion, cublasGetProperty, cudnnGetVersion, ncclGetVersion,
cuDriverGetVersion) through ctypes, so a renamed or wheel-installed file reports its truth.

usage: libversions.py EXECUTABLE BUILD_INFO
"""
import ctypes
import os
import re
import subprocess
import sys


def ldd(exe):
    out = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (.*?)(?: \(0x[0-9a-f]+\))?$", line)
        if m:
            found[m.group(1)] = m.group(2).strip()
    return found


def int_out(lib, fn, *lead):
    v = ctypes.c_int(0)
    status = getattr(lib, fn)(*lead, ctypes.byref(v))
    return v.value if status == 0 else None


def version_of(soname, path):
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        return None, f"cannot load: {e}"
    try:
        if soname.startswith("libcudart"):
            v = int_out(lib, "cudaRuntimeGetVersion")
            return v and f"{v // 1000}.{v % 1000 // 10}", None
        if soname.startswith("libcublasLt"):
            lib.cublasLtGetVersion.restype = ctypes.c_size_t
            v = lib.cublasLtGetVersion()
            return f"{v // 10000}.{v % 10000 // 100}.{v % 100}", None
        if soname.startswith("libcublas."):
            parts = [int_out(lib, "cublasGetProperty", k) for k in (0, 1, 2)]
            return ".".join(str(p) for p in parts), None
        if soname.startswith("libcudnn."):
            lib.cudnnGetVersion.restype = ctypes.c_size_t
            v = lib.cudnnGetVersion()
            return f"{v // 10000}.{v % 10000 // 100}.{v % 100}", None
        if soname.startswith("libnccl"):
            v = int_out(lib, "ncclGetVersion")
            return v and f"{v // 10000}.{v % 10000 // 100}.{v % 100}", None
        if soname.startswith("libcuda."):
            v = int_out(lib, "cuDriverGetVersion")
            return v and f"{v // 1000}.{v % 1000 // 10} (driver API)", None
    except AttributeError as e:
        return None, str(e)
    return None, None


def main():
    exe, build_info = sys.argv[1], sys.argv[2]
    built = {}
    if os.path.exists(build_info):
        for line in open(build_info):
            k, _, v = line.partition("=")
            built[k.strip()] = v.strip()
    resolved = ldd(exe)
    rows = [("libcudart.so", "cudart"), ("libcublas.so", "cublas"), ("libcublasLt.so", "cublasLt"),
            ("libcudnn.so", "cudnn"), ("libnccl.so", "nccl"), ("libcuda.so", "driver")]
    for prefix, key in rows:
        names = [n for n in resolved if n.startswith(prefix + ".") or n == prefix]
        if not names and key == "driver":
            # The CUDA runtime opens the driver itself (dlopen), so ldd does not list it.
            v, err = version_of("libcuda.so.1", "libcuda.so.1")
            print(f"{key:9} libcuda.so.1 (opened by the CUDA runtime): {v or err}")
            continue
        if not names:
            # Not linked: NCCL's wheel folder may still be on the path.
            note = "not linked by the carried executables"
            if key == "nccl":
                for d in os.environ.get("LD_LIBRARY_PATH", "").split(":"):
                    p = os.path.join(d, "libnccl.so.2")
                    if d and os.path.exists(p):
                        v, _ = version_of("libnccl.so.2", p)
                        note += f"; found {v} at {p}"
                        break
            print(f"{key:9} {note}")
            continue
        for n in names:
            path = resolved[n]
            want = built.get(key, "-")
            if path == "not found":
                print(f"{key:9} {n}: NOT FOUND (built with {want})")
                continue
            v, err = version_of(n, path)
            print(f"{key:9} {n} -> {os.path.realpath(path)}: {v or err or '?'} (built with {want})")


if __name__ == "__main__":
    main()
