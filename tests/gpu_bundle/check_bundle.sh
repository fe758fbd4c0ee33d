#!/usr/bin/env bash
# CI check of the GPU bundle, on a machine without a GPU (ctest gpu_bundle_tests):
#  1. tools/gpu-bundle.sh builds it from this build directory, under its size limit;
#  2. every carried executable's libraries resolve, through the dynamic loader, inside the
#     bundle or to the short list of system and CUDA libraries the GPU machine's image has;
#  3. cuDNN is found in a pip wheel's folder (PyTorch's, on the GPU machine) when the toolkit
#     has none: a fake wheel and a fake toolkit stand in for them;
#  4. run.sh --dry runs here: every GPU step skipped with its reason, the table printed,
#     at most 8 result files; results_table.py turns them into a section that says so.
# usage: check_bundle.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
work=$build/gpu-bundle-check
rm -rf "$work"
mkdir -p "$work"
fail() { echo "check_bundle.sh: FAIL: $*" >&2; exit 1; }

echo "== 1. build the bundle"
IMX_BUNDLE_BUILD=$build "$src/tools/gpu-bundle.sh" "$work/bundle" | tee "$work/bundle.log"
for f in run.sh payload.tar.xz build-info.txt tools/torch_baseline.py tools/libversions.py tools/check_libraries.sh; do
  [ -f "$work/bundle/$f" ] || fail "bundle lacks $f"
done
size=$(du -sb "$work/bundle" | cut -f1)
[ "$size" -lt $((48 * 1024 * 1024)) ] || fail "bundle is $size bytes"
python3 -m py_compile "$work/bundle/tools/torch_baseline.py"

echo "== 2. library resolution"
payload=$work/payload
mkdir -p "$payload"
xz -dc "$work/bundle/payload.tar.xz" | tar -xf - -C "$payload"
system_re='^(linux-vdso|ld-linux-x86-64|libc|libm|libdl|libpthread|librt|libutil|libstdc\+\+|libgcc_s)\.so'
cuda_re='^(libcuda|libcudart|libcublas|libcublasLt|libcudnn[a-z_]*|libnccl)\.so'
count=0
for exe in "$payload"/bin/*; do
  count=$((count + 1))
  runpath=$(readelf -d "$exe" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
  [ "$runpath" = '$ORIGIN/../lib' ] || fail "$(basename "$exe") has RUNPATH '$runpath'"
  # As run.sh runs them: the bundle's lib folder first (the RUNPATH serves the executable's own
  # needs only; OpenBLAS's libgfortran is found through the path), then the loader's defaults.
  while read -r soname arrow path _; do
    [ "$arrow" = "=>" ] || continue
    [ "$path" = "not found" ] || path=$(realpath "$path")
    case "$path" in "$payload"/lib/*) continue ;; esac
    if [[ "$soname" =~ $system_re ]] || [[ "$soname" =~ $cuda_re ]]; then continue; fi
    fail "$(basename "$exe") loads $soname from $path: neither in the bundle nor a system or CUDA library"
  done < <(LD_LIBRARY_PATH=$payload/lib ldd "$exe")
done
[ "$count" -eq 7 ] || fail "expected 7 executables, found $count"
echo "all $count executables resolve inside the bundle or to system/CUDA libraries"

echo "== 3. cuDNN from a wheel folder"
cudnn=$(env -u LD_LIBRARY_PATH ldd "$payload/bin/cuda_backend_tests" | awk '$1 == "libcudnn.so.9" { print $3 }')
[ -n "$cudnn" ] && [ -f "$cudnn" ] || fail "libcudnn.so.9 does not resolve here"
cudart=$(env -u LD_LIBRARY_PATH ldd "$payload/bin/cuda_backend_tests" | awk '$1 == "libcudart.so.13" { print $3 }')
fake=$work/fake
mkdir -p "$fake/toolkit/lib64" "$fake/site/nvidia/cudnn/lib"
touch "$fake/site/nvidia/__init__.py" "$fake/site/nvidia/cudnn/__init__.py"
for f in "$(dirname "$cudnn")"/libcudnn*.so.9; do ln -s "$f" "$fake/site/nvidia/cudnn/lib/"; done
for f in "$(dirname "$cudart")"/libcudart.so.13 "$(dirname "$cudart")"/libcublas.so.13 "$(dirname "$cudart")"/libcublasLt.so.13; do
  ln -s "$f" "$fake/toolkit/lib64/"
done
IMX_GPU_CUDA_DIRS=$fake/toolkit PYTHONPATH=$fake/site "$work/bundle/run.sh" --dry "$work/fake-results" >"$work/fake-run.log" 2>&1 ||
  fail "dry run with the fake wheel failed: $(tail -5 "$work/fake-run.log")"
grep -q "^cudnn .*libcudnn.so.9 -> $(realpath "$cudnn"): 9\." "$work/fake-results/env.txt" ||
  fail "cuDNN not reported with its version: $(grep cudnn "$work/fake-results/env.txt")"
grep -q "LD_LIBRARY_PATH=.*$fake/site/nvidia/cudnn/lib" "$work/fake-results/env.txt" ||
  fail "the wheel folder is not on the loader path: $(grep LD_LIBRARY_PATH "$work/fake-results/env.txt")"
# The loader, under run.sh's path, takes cuDNN from the wheel folder (the toolkit has none).
lp=$(sed -n 's/^LD_LIBRARY_PATH=//p' "$work/fake-results/env.txt")
got=$(LD_LIBRARY_PATH=$lp ldd "$payload/bin/cuda_backend_tests" | awk '$1 == "libcudnn.so.9" { print $3 }')
[ "$got" = "$fake/site/nvidia/cudnn/lib/libcudnn.so.9" ] || fail "libcudnn.so.9 resolves to '$got', not the wheel folder"
echo "cuDNN resolves to the wheel folder: $got"

echo "== 4. dry run"
results=$work/results
"$work/bundle/run.sh" --dry "$results" | tee "$work/dry.log"
n=$(find "$results" -type f | wc -l)
[ "$n" -le 8 ] || fail "$n result files (at most 8 come back from the GPU machine)"
for s in gpu-info cuda-backend-tests kernel-ops-tests mi-cuda-tests nccl-tests simt-crosscheck bench-mi train memcheck racecheck; do
  grep -qE "^$s +SKIP +0s +dry run: no device used" "$results/summary.txt" || fail "step $s is not reported as skipped: $(grep "^$s " "$results/summary.txt")"
done
grep -qE "^libraries +PASS " "$results/summary.txt" || fail "libraries: $(grep '^libraries' "$results/summary.txt")"
grep -qE "^torch-baseline +(SKIP|PASS) " "$results/summary.txt" || fail "torch-baseline: $(grep '^torch-baseline' "$results/summary.txt")"
if grep -qE "^torch-baseline +SKIP " "$results/summary.txt"; then
  grep -qE "^torch-baseline +SKIP .*(PyTorch is not installed|no CUDA device)" "$results/summary.txt" || fail "torch-baseline skipped without a reason"
fi
[ "$(grep -cE '^RESULT ' "$work/dry.log")" -eq 12 ] || fail "expected 12 result lines as the steps ran"
python3 "$src/tools/gpu/results_table.py" "$results" >"$work/section.md"
grep -q "Not yet run on a GPU" "$work/section.md" || fail "results_table.py does not say the run had no GPU"
grep -q "| memcheck | SKIP |" "$work/section.md" || fail "results_table.py lost the memcheck row"

echo "== 5. a run killed from outside still prints its table"
IMX_GPU_DRY=1 timeout -s TERM 1 "$work/bundle/run.sh" "$work/killed" >"$work/killed.log" 2>&1 || true
grep -q "GPU check summary" "$work/killed/summary.txt" || fail "no summary after a kill"
grep -qE "NOT RUN|SKIP|PASS" "$work/killed/summary.txt" || fail "the killed run's table has no rows"
echo "== 6. results_table.py on a GPU-shaped results folder (a made-up fixture, not a result)"
fx=$work/fixture
mkdir -p "$fx"
{
  echo "GPU check summary (fixture, 100 s, mode: device)"
  echo "GPU: fixture GPU"
  printf '%-20s %-12s %6s  %s\n' step result time detail
  printf '%-20s %-12s %6s  %s\n' cuda-backend-tests PASS 10s "All tests passed (7 assertions in 2 test cases)"
  printf '%-20s %-12s %6s  %s\n' bench-mi PASS 20s '{"estimator": "jsd"}'
}>"$fx/summary.txt"
cat >"$fx/bench-mi-cuda.jsonl" <<'JSON'
{"estimator": "jsd", "impl": "fused", "B": 256, "P": 64, "D": 512, "K": 1, "fwd_ms": 1.0, "fwd_bwd_ms": 2.0}
{"estimator": "jsd", "impl": "unfused", "B": 256, "P": 64, "D": 512, "K": 1, "fwd_ms": 1.5, "fwd_bwd_ms": 3.0}
JSON
cat >"$fx/torch-baseline.jsonl" <<'JSON'
{"torch": "x", "cuda": "13.0", "cudnn": 91900, "device": "fixture GPU"}
{"what": "mi", "estimator": "jsd", "formulation": "authors", "B": 256, "P": 64, "D": 512, "K": 1, "fwd_ms": 4.0, "fwd_bwd_ms": 8.0}
{"what": "mi", "estimator": "jsd", "formulation": "lean", "B": 256, "P": 64, "D": 512, "K": 1, "fwd_ms": 3.0, "fwd_bwd_ms": 5.0}
{"what": "train_step", "encoder": "mnist28", "units": 512, "batch": 64, "ms_per_step": 10.0, "images_per_s": 6400.0}
JSON
echo "epoch 1: loss 0.1 (first batch 0.2) | probe test accuracy: conv 80.00%  fc 70.00%  y 60.00% | 3200 img/s" >"$fx/run.log"
python3 "$src/tools/gpu/results_table.py" "$fx" >"$work/fixture.md"
grep -q "| jsd | 256 | 64 | 512 | 2.000 | 3.000 | 8.000 | 5.000 | 2.50× |" "$work/fixture.md" ||
  fail "MI ratio row wrong: $(grep '| jsd' "$work/fixture.md")"
grep -q "| 3200 | 0.50× |" "$work/fixture.md" || fail "training ratio row wrong: $(grep img "$work/fixture.md")"
grep -q "Not yet run on a GPU" "$work/fixture.md" && fail "a device run reported as not run"
cp "$src/bench/RESULTS.md" "$work/RESULTS.md"
python3 "$src/tools/gpu/results_table.py" "$results" --update "$work/RESULTS.md" >/dev/null
python3 "$src/tools/gpu/results_table.py" "$fx" --update "$work/RESULTS.md" >/dev/null
[ "$(grep -c 'gpu-results:begin' "$work/RESULTS.md")" -eq 1 ] || fail "--update duplicated the section"
grep -q "2.50×" "$work/RESULTS.md" || fail "--update did not replace the section"
echo "check_bundle.sh: PASS"
