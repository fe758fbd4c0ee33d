#!/usr/bin/env bash
# Installs every Debian package infomax uses. Idempotent: a second run installs nothing new.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libopenblas-dev                     # CPU products (blas/gemm.cpp): double, and the float shapes OpenBLAS wins
  libopenblas-openmp-dev              # OpenBLAS sharing the OpenMP pool (see CMakeLists.txt)
  libdnnl-dev                         # CPU products: oneDNN's sgemm, faster on most float shapes
  libeigen3-dev                       # dim-bench-data: Eigen's GEMM beside OpenBLAS's
  catch2                              # tests (Catch2 v2 single header)
  libboost-context-dev                # SIMT emulation: one fiber per GPU thread
  libcli11-dev nlohmann-json3-dev     # tool flags, JSON output
  zlib1g-dev libstb-dev libpng-dev    # gzipped idx files, JPEG decoding, PNG grids
  clang libclang-rt-14-dev            # libFuzzer targets for the dataset parsers
  libjpeg62-turbo-dev                 # dataset tests: real-world JPEG variants (progressive, restarts) for stb
  dataset-fashion-mnist               # the embedded default dataset
  python3-numpy                       # tests: cross-check .npy files against NumPy's own reader/writer
  gnuplot-nox                         # dim-train: the loss and accuracy picture (OUT/training.png)
  xz-utils                            # tools/gpu-bundle.sh: the packed libraries of the GPU bundle
  libopenmpi-dev openmpi-bin          # data-parallel dim-train/dim-eval (mpirun), and their 2-rank tests
  openssh-client                      # mpirun's launcher for ranks on other machines (--hostfile)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v nvcc >/dev/null || echo "setup: nvcc not on PATH; CUDA sources will be skipped (add /usr/local/cuda/bin to PATH)" >&2
