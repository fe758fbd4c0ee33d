#!/usr/bin/env bash
# The GPU check, run from the bundle that tools/gpu-bundle.sh built (this file is its run.sh).
#
#   ./run.sh [RESULTS_DIR]         on a machine with a GPU (results: RESULTS_DIR, else $OUT,
#                                  else ./results beside this script)
#   ./run.sh --dry [RESULTS_DIR]   anywhere: no device is touched; the GPU steps are reported
#                                  as skipped with the reason, the table is still printed
#                                  (IMX_GPU_DRY=1 does the same)
#
# A global deadline (IMX_GPU_DEADLINE seconds, default 480) bounds the whole run; each step
# has its own limit as well, cut to what is left. Each result line is printed when it is
# known; the summary table comes from an EXIT trap, so a run killed from outside still
# reports. At most 8 files are written to the results folder: summary.txt, run.log, env.txt,
# bench-mi-cuda.jsonl, torch-baseline.jsonl, train-metrics.jsonl.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dry=${IMX_GPU_DRY:-0}
if [ "${1:-}" = "--dry" ]; then dry=1; shift; fi
results=${1:-${OUT:-$here/results}}
mkdir -p "$results"
results=$(cd "$results" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/imx-gpu-run.XXXXXX")
log=$results/run.log
: >"$log"
start=$SECONDS
deadline=$((start + ${IMX_GPU_DEADLINE:-480}))
order=()
declare -A verdict seconds detail

say() { echo "$*" | tee -a "$log"; }

summary() {
  local rc=$?
  {
    echo
    echo "GPU check summary ($(date -u +%Y-%m-%dT%H:%MZ), $((SECONDS - start)) s, mode: $([ "$dry" = 1 ] && echo dry || echo device))"
    [ -s "$results/env.txt" ] && sed -n 's/^gpu: /GPU: /p' "$results/env.txt"
    printf '%-20s %-12s %6s  %s\n' step result time detail
    for name in "${all_steps[@]}"; do
      printf '%-20s %-12s %6s  %s\n' "$name" "${verdict[$name]:-NOT RUN}" "${seconds[$name]:--}" \
        "${detail[$name]:-the run ended before this step}"
    done
  } | tee "$results/summary.txt"
  rm -rf "$work"
  exit "$rc"
}
# Every step, in the order they run, so that the table names the ones never reached.
all_steps=(gpu-info libraries cuda-backend-tests kernel-ops-tests mi-cuda-tests nccl-tests simt-crosscheck
           bench-mi torch-baseline train memcheck racecheck)
trap summary EXIT
trap 'say "interrupted"; exit 130' INT TERM

record() {  # record NAME VERDICT SECONDS DETAIL: stores a result and prints its line at once
  verdict[$1]=$2 seconds[$1]=$3s detail[$1]=$4
  say "RESULT $(printf '%-20s %-12s %5ss  %s' "$1" "$2" "$3" "$4")"
}

# Why GPU steps cannot run here (empty when they can).
gpu_missing=""
if [ "$dry" = 1 ]; then
  gpu_missing="dry run: no device used (--dry / IMX_GPU_DRY=1)"
elif ! command -v nvidia-smi >/dev/null 2>&1; then
  gpu_missing="no CUDA device: nvidia-smi is not on PATH"
elif ! nvidia-smi -L >/dev/null 2>&1; then
  gpu_missing="no CUDA device: nvidia-smi -L failed"
fi

# step NAME LIMIT KIND PATTERN -- COMMAND...: runs COMMAND with the step's limit (cut to the
# global deadline), its output in run.log; the detail is the last output line matching PATTERN.
# KIND gpu: skipped with the reason when no device can be used; any: runs in every mode.
step() {
  local name=$1 limit=$2 kind=$3 pattern=$4
  shift 5
  if [ "$kind" = gpu ] && [ -n "$gpu_missing" ]; then
    record "$name" SKIP 0 "$gpu_missing"
    return
  fi
  local left=$((deadline - SECONDS - 5))
  if [ "$left" -le 5 ]; then
    record "$name" SKIP 0 "global deadline reached ($((deadline - start)) s)"
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  say "=== $name (limit ${limit}s): $*"
  local out=$work/$name.log t0=$SECONDS rc
  timeout --kill-after=5 "$limit" "$@" >"$out" 2>&1
  rc=$?
  cat "$out" >>"$log"
  local v=PASS
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then v="TIMEOUT"
  elif [ $rc -eq 77 ]; then v="SKIP"
  elif [ $rc -ne 0 ]; then v="FAIL(rc=$rc)"
  fi
  local d
  d=$(grep -E "$pattern" "$out" | tail -1 | cut -c1-110)
  [ -z "$d" ] && d=$(grep -v '^\s*$' "$out" | tail -1 | cut -c1-110)
  record "$name" "$v" $((SECONDS - t0)) "${d:-no output}"
}

# ---- the payload (executables, libraries, data), packed by gpu-bundle.sh; unpacked per run.
payload=$work/payload
mkdir -p "$payload"
if [ -f "$here/payload.tar.xz" ]; then
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$here/payload.tar.xz" | tar -xf - -C "$payload"
  else  # python3's lzma, where the xz tool is missing
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$here/payload.tar.xz" "$payload"
  fi || { say "run.sh: cannot unpack $here/payload.tar.xz"; exit 1; }
elif [ -d "$here/bin" ]; then
  payload=$here
else
  say "run.sh: neither $here/payload.tar.xz nor $here/bin: not a bundle made by tools/gpu-bundle.sh"
  exit 1
fi

# ---- libraries: the bundle's own, the machine's CUDA runtime and cuBLAS, cuDNN/NCCL anywhere.
lib_path=$payload/lib
add_dir() {  # appends a folder once (by its real path) if it exists
  [ -d "$1" ] || return 0
  local d
  d=$(realpath "$1")
  case ":$lib_path:" in *":$d:"*) ;; *) lib_path=$lib_path:$d ;; esac
}
# IMX_GPU_CUDA_DIRS (space-separated toolkit roots) overrides the search, for tests.
nvcc_dir=$(dirname "$(command -v nvcc 2>/dev/null || echo /usr/local/cuda/bin/nvcc)")
for d in ${IMX_GPU_CUDA_DIRS:-"${CUDA_HOME:-/usr/local/cuda}" "$nvcc_dir/.." /usr/local/cuda}; do
  add_dir "$d/lib64"
  add_dir "$d/lib"
  add_dir "$d/targets/x86_64-linux/lib"
done
# Pip wheels (PyTorch's): cuDNN and NCCL live only there on the lent machine; the CUDA runtime
# and cuBLAS wheels come after the toolkit's folders, as a fallback.
if command -v python3 >/dev/null 2>&1; then
  while IFS= read -r d; do add_dir "$d"; done < <(python3 - <<'PY' 2>/dev/null
import importlib, os
for mod in ("nvidia.cudnn", "nvidia.nccl", "nvidia.cublas", "nvidia.cuda_runtime", "nvidia.cu13"):
    try:
        m = importlib.import_module(mod)
    except Exception:
        continue
    for base in getattr(m, "__path__", []):
        lib = os.path.join(base, "lib")
        if os.path.isdir(lib):
            print(os.path.realpath(lib))
PY
)
fi
# The driver's folder (a mount on the lent machine); the system folders stay the loader's own.
add_dir /usr/local/nvidia/lib64
export LD_LIBRARY_PATH=$lib_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
bin=$payload/bin

{
  echo "bundle: $(sed -n 's/^commit=//p' "$here/build-info.txt" 2>/dev/null)"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  echo "built with: $(grep -v '^commit=' "$here/build-info.txt" 2>/dev/null | tr '\n' ' ')"
} >"$results/env.txt"

step gpu-info 30 gpu "H200|GPU|NVIDIA" -- \
  sh -c 'nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader | sed "s/^/gpu: /" | tee -a "$0"; nvidia-smi' "$results/env.txt"

# The loader resolves every library of every carried executable (none "not found"), and each
# CUDA library reports its own version beside the one the bundle was built with.
step libraries 30 any "libraries:|unresolved" -- \
  "$here/tools/check_libraries.sh" "$bin" "$here/build-info.txt" "$results/env.txt"

# The device-only tests, run directly (not through ctest): each exits 77 without a device.
step cuda-backend-tests 120 gpu "test cases|All tests passed" -- "$bin/cuda_backend_tests" --use-colour no
step kernel-ops-tests 60 gpu "test cases|All tests passed" -- "$bin/kernel_ops_cuda_tests" --use-colour no
step mi-cuda-tests 60 gpu "test cases|All tests passed" -- "$bin/mi_cuda_device_tests" --use-colour no
# NCCL from the PyTorch wheel (loaded at run time): one rank's collectives on the GPU and the
# gather negatives on CUDA tensors. Two ranks would need two GPUs and Open MPI.
step nccl-tests 60 gpu "test cases|All tests passed" -- "$bin/nccl_device_tests" --use-colour no
step simt-crosscheck 30 gpu "simt_gpu_crosscheck: (PASS|FAIL)" -- "$bin/simt_gpu_crosscheck"

# Every GPU figure beside a baseline of the same run: the MI kernels against the machine's
# sgemm ceiling (dim-bench) and against PyTorch's formulations of the same losses.
step bench-mi 120 gpu '"estimator"' -- \
  bash -o pipefail -c '"$0" mi --device cuda --json --reps 5 | tee "$1"' "$bin/dim-bench" "$results/bench-mi-cuda.jsonl"
# Exits 77 (a skip) with its reason when PyTorch or a device is missing.
baseline_args=()
[ -n "$gpu_missing" ] && baseline_args=(--quick)
step torch-baseline 120 any '"skipped"|train_step|"what"' -- \
  bash -o pipefail -c 'out=$1; shift; python3 "$0" "$@" | tee "$out"' "$here/tools/torch_baseline.py" \
  "$results/torch-baseline.jsonl" "${baseline_args[@]}"

step train 120 gpu "images/s|probe accuracy" -- \
  sh -c '"$0" --device cuda --data "fashion-mnist:$1" --epochs 1 --mi-units 512 --out "$2" --progress-seconds 5 &&
         cp "$2/metrics.jsonl" "$3"' \
  "$bin/dim-train" "$payload/data/fashion-mnist" "$work/train" "$results/train-metrics.jsonl"

# compute-sanitizer: memcheck on every op of the backend with the caching allocator switched to
# pass-through (exact sizes, so an overrun of a tensor is an overrun of an allocation), and
# racecheck on the MI kernels' shared-memory tiles.
sanitizer_missing=$gpu_missing
[ -z "$sanitizer_missing" ] && ! command -v compute-sanitizer >/dev/null 2>&1 &&
  sanitizer_missing="compute-sanitizer is not on PATH"
if [ -n "$sanitizer_missing" ]; then
  record memcheck SKIP 0 "$sanitizer_missing"
  record racecheck SKIP 0 "$sanitizer_missing"
else
  step memcheck 150 gpu "ERROR SUMMARY|test cases|All tests" -- \
    env IMX_CUDA_ALLOCATOR=passthrough compute-sanitizer --tool memcheck --error-exitcode 1 \
    "$bin/cuda_backend_tests" --use-colour no "every op*"
  step racecheck 120 gpu "RACECHECK SUMMARY|ERROR SUMMARY|test cases|All tests" -- \
    compute-sanitizer --tool racecheck --error-exitcode 1 \
    "$bin/mi_cuda_device_tests" --use-colour no "fused and unfused match*"
fi
