#!/usr/bin/env bash
# Builds the bundle for a lent GPU machine, here (nvcc is here; the GPU machine lacks the
# Debian packages the build needs): the CUDA test and benchmark executables and dim-train
# (sm_90, from the normal build directory), the non-system shared libraries they load, a
# slice of Fashion-MNIST, the PyTorch baseline and the run script DIR/run.sh.
#
#   tools/gpu-bundle.sh [DIR]     DIR defaults to ./gpu-bundle (ignored by git), which the
#                                 device tool can carry as is
# Environment: IMX_BUNDLE_BUILD (build directory, default ./build; configured when missing).
#
# The executables use the GPU machine's own CUDA runtime, cuBLAS and driver; cuDNN and NCCL
# (which infomax loads with dlopen) are found at run time wherever they are (run.sh adds the pip
# wheels' folders to the loader path). Only libraries that every Linux image has (glibc,
# libstdc++, libgcc_s) and the CUDA ones are left out.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/gpu-bundle}
build=${IMX_BUNDLE_BUILD:-$root/build}
export PATH=/usr/local/cuda/bin:$PATH

# What the bundle carries: name and where the build puts it.
exes=(tests/cuda/cuda_backend_tests tests/kernels/kernel_ops_cuda_tests tests/mi_cuda/mi_cuda_device_tests
      tests/dist/nccl_device_tests
      tests/simt/simt_gpu_crosscheck bin/dim-bench bin/dim-train)
# Left to the machine: the C runtime every image has, and CUDA's own libraries (the device's).
system_re='^(linux-vdso|ld-linux-x86-64|libc|libm|libdl|libpthread|librt|libutil|libstdc\+\+|libgcc_s)\.so'
cuda_re='^(libcuda|libcudart|libcublas|libcublasLt|libcudnn[a-z_]*|libnccl|libnvrtc|libnvJitLink)\.so'

[ -f "$build/build.ninja" ] || cmake -S "$root" -B "$build" -G Ninja >/dev/null
# The CUDA targets the build compiles for, as nvcc is told (build.ninja's --generate-code).
arch=$(grep -oE 'code=\[?[^] ]*sm_[0-9]+a?' "$build/build.ninja" | grep -oE 'sm_[0-9]+a?' | sort -u | tr '\n' ' ')
case " $arch" in
  *" sm_90 "*|*" sm_90a "*) ;;
  *) echo "gpu-bundle.sh: $build compiles CUDA for '$arch'; the H200 needs sm_90 (configure with -DCMAKE_CUDA_ARCHITECTURES=90)" >&2
     exit 1 ;;
esac
# Hopper-only instructions (wgmma, setmaxnreg) need the sm_90a target; no kernel uses them today.
if grep -rlqE '\b(wgmma|setmaxnreg)\b' "$root/kernels" "$root/losses" --include='*.cu' --include='*.cuh'; then
  case " $arch" in *" sm_90a "*) ;; *) echo "gpu-bundle.sh: kernels use wgmma/setmaxnreg: build for 90a" >&2; exit 1 ;; esac
fi

targets=()
for e in "${exes[@]}"; do targets+=("$(basename "$e")"); done
cmake --build "$build" --target "${targets[@]}"

rm -rf "$out"
stage=$out/.stage  # bin, lib, data: packed into payload.tar.xz (OpenBLAS alone is 36 MB raw, 4 MB packed)
mkdir -p "$stage/bin" "$stage/lib" "$stage/data" "$out/tools"
for e in "${exes[@]}"; do
  dst=$stage/bin/$(basename "$e")
  cp "$build/$e" "$dst"
  strip --strip-unneeded "$dst"  # keeps the CUDA fat binaries (.nv_fatbin) and the dynamic table
  cmake -DFILE="$dst" '-DRUNPATH=$ORIGIN/../lib' -P "$root/tools/gpu/set_runpath.cmake" >/dev/null
done

# The libraries the loader resolves for them here, except the system and CUDA ones. ldd lists
# the transitive ones too.
for exe in "$stage"/bin/*; do
  ldd "$exe" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }'
done | sort -u | while read -r soname path; do
  if [[ "$soname" =~ $system_re ]] || [[ "$soname" =~ $cuda_re ]]; then continue; fi
  cp -L "$path" "$stage/lib/$soname"
  strip --strip-unneeded "$stage/lib/$soname" 2>/dev/null || true
done

python3 "$root/tools/gpu/fashion_slice.py" /usr/share/datasets/fashion-mnist "$stage/data/fashion-mnist" --train 4096 --test 1024
cp "$root/tools/gpu/run.sh" "$out/run.sh"
cp "$root/tools/gpu/check_libraries.sh" "$root/tools/gpu/libversions.py" "$root/tools/gpu/torch_baseline.py" "$out/tools/"

header_version() {  # header_version FILE MACRO...: the macros' values joined by dots
  local v=() m
  for m in "${@:2}"; do v+=("$(sed -n "s/^#define $m \+\([0-9]\+\).*/\1/p" "$1" | head -1)"); done
  (IFS=.; echo "${v[*]}")
}
inc=$(dirname "$(command -v nvcc)")/../include
cudart=$(sed -n 's/^#define CUDART_VERSION \+\([0-9]\+\).*/\1/p' "$inc/cuda_runtime_api.h")
{
  echo "commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo '+changes')"
  echo "cuda_arch=${arch% }"
  echo "nvcc=$(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
  echo "cudart=$((cudart / 1000)).$((cudart % 1000 / 10))"
  echo "cublas=$(header_version "$inc/cublas_api.h" CUBLAS_VER_MAJOR CUBLAS_VER_MINOR CUBLAS_VER_PATCH)"
  echo "cublasLt=$(header_version "$inc/cublas_api.h" CUBLAS_VER_MAJOR CUBLAS_VER_MINOR CUBLAS_VER_PATCH)"
  echo "cudnn=$(header_version "$inc/cudnn_version.h" CUDNN_MAJOR CUDNN_MINOR CUDNN_PATCHLEVEL)"
  echo "nccl=loaded at run time (dlopen libnccl.so.2)"
  echo "driver=the device's"
} >"$out/build-info.txt"

raw=$(du -sb "$stage" | cut -f1)
tar -C "$stage" -cf - bin lib data | xz -T0 -6 >"$out/payload.tar.xz"
rm -rf "$stage"
size=$(du -sb "$out" | cut -f1)
echo "gpu-bundle.sh: payload $((raw / 1024 / 1024)) MiB unpacked"
echo "gpu-bundle.sh: $out: $((size / 1024 / 1024)) MiB ($size bytes) in $(find "$out" -type f | wc -l) files"
if [ "$size" -gt $((48 * 1024 * 1024)) ]; then
  echo "gpu-bundle.sh: the bundle exceeds 48 MiB (the device tool carries at most 64 MiB with the tree)" >&2
  exit 1
fi
