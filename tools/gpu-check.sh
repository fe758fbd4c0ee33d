#!/usr/bin/env bash
# The prepared check for a lent GPU machine (one H200): builds for sm_90, runs the CUDA tests
# (the whole CUDA backend against the CPU backend), compute-sanitizer memcheck and racecheck on
# them, and the benchmarks, then prints a short table. Aims to finish in under 8 minutes.
# Usage (from the repo root): tools/gpu-check.sh [RESULTS_DIR]   (default: $OUT or ./gpu-results)
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/cuda/bin:$PATH"
results="${1:-${OUT:-gpu-results}}"
mkdir -p "$results"
log="$results/gpu-check.log"
: >"$log"
declare -A status

step() {  # step NAME TIMEOUT_SECONDS COMMAND...: runs, logs, records PASS/FAIL/TIMEOUT
  local name=$1 limit=$2
  shift 2
  echo "=== $name: $*" | tee -a "$log"
  local t0=$SECONDS
  timeout "$limit" "$@" >>"$log" 2>&1
  local rc=$?
  local verdict=PASS
  [ $rc -eq 124 ] && verdict=TIMEOUT
  [ $rc -ne 0 ] && [ $rc -ne 124 ] && verdict="FAIL(rc=$rc)"
  status[$name]="$verdict $((SECONDS - t0))s"
  echo "--- $name: ${status[$name]}" | tee -a "$log"
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >"$results/gpu.txt" 2>&1
build=build-gpu
step configure 120 cmake -S . -B "$build" -G Ninja -DCMAKE_CUDA_ARCHITECTURES=90 -DIMX_EMU_SANITIZERS=OFF
step build 300 cmake --build "$build" -j 16
# Every CUDA-only test: the backend op by op against the CPU, the hand kernels and the MI
# kernels against their CPU references, the SIMT emulation against the device bit for bit.
step cuda-tests 180 ctest --test-dir "$build" -L cuda --output-on-failure
if command -v compute-sanitizer >/dev/null; then
  step memcheck 150 compute-sanitizer --tool memcheck --error-exitcode 1 "$build/tests/cuda/cuda_backend_tests" "every op*"
  step racecheck 150 compute-sanitizer --tool racecheck --error-exitcode 1 "$build/tests/kernels/kernel_ops_cuda_tests"
fi
step bench-mi-cuda 180 sh -c "\"$build/bin/dim-bench\" mi --device cuda --json --reps 5 > \"$results/bench-mi-cuda.jsonl\""
step bench-mi-cuda-human 60 "$build/bin/dim-bench" mi --device cuda --estimator infonce --B 256 --P 64 --D 512 --reps 5
step train-cuda 120 "$build/bin/dim-train" --device cuda --epochs 1 --limit-train 8192 --limit-test 2000 --out "$results/train" --progress-seconds 10

{
  echo "GPU check $(date -u +%Y-%m-%dT%H:%MZ) on $(cat "$results/gpu.txt")"
  printf '%-18s %s\n' step result
  for k in configure build cuda-tests memcheck racecheck bench-mi-cuda bench-mi-cuda-human train-cuda; do
    [ -n "${status[$k]:-}" ] && printf '%-18s %s\n' "$k" "${status[$k]}"
  done
  echo "bench lines:"
  grep -E "^(infonce|ceiling)|probe accuracy|tests passed" "$log" | tail -20
} | tee "$results/summary.txt"
