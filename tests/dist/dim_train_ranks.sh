#!/usr/bin/env bash
# dim-train as 2 MPI ranks through the real binary: a 2-rank run stopped by a signal resumes to
# the weights of an uninterrupted one; a 2-rank checkpoint resumes on 1 rank with the same
# global batch and is refused with another; a killed rank and a hung rank end the job within
# their bounds, with a message.
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'pkill -9 -f "$out" 2>/dev/null; rm -rf "$out"' EXIT
fail=0
say() { echo "$@"; }
bad() { echo "FAIL: $*"; fail=1; }
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  echo "FAIL: Fashion-MNIST (dataset-fashion-mnist, installed by setup.sh) is missing"; exit 1
fi
mpirun=(mpirun -np 2)
# A failure of this test's own making (a collective mismatch) ends within 60 s, not 300.
common=(--limit-train 640 --limit-test 128 --mi-units 32 --no-plot --progress-seconds 1000
        --estimator infonce --step-log 1)

# The pid of rank R of the mpirun job whose command line mentions folder $1.
rank_pid() {
  for p in $(pgrep -f -- "--out $1"); do
    [ "$(tr '\0' '\n' </proc/$p/environ 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')" = "$2" ] && { echo $p; return; }
  done
}
wait_step() {  # wait_step FOLDER STEP: until steps.jsonl has that step (at most 120 s)
  for _ in $(seq 1 1200); do grep -q "\"step\":$2," "$1/steps.jsonl" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# 1. Uninterrupted, 2 epochs of 20 steps.
"${mpirun[@]}" "$bin" "${common[@]}" --collective-timeout 60 --batch 16 --epochs 2 --out "$out/whole" >"$out/whole.log" 2>&1 || { bad "2-rank run failed"; tail "$out/whole.log"; }
grep -q "data-parallel: 2 ranks (MPI), 16 images per rank, global batch 32" "$out/whole.log" || bad "no data-parallel line"
[ "$(grep -c . "$out/whole/metrics.jsonl")" = 2 ] || bad "rank 0 should write 2 metric lines, once each"

# 2. The same, stopped by SIGTERM to rank 1 only mid-epoch 1: every rank stops after the same
#    step, rank 0 writes the checkpoint, the job exits 143; the resume ends bit-identical.
"${mpirun[@]}" "$bin" "${common[@]}" --collective-timeout 60 --batch 16 --epochs 2 --out "$out/parts" >"$out/parts.log" 2>&1 &
job=$!
wait_step "$out/parts" 5 || bad "the stopped run never reached step 5"
kill -TERM "$(rank_pid "$out/parts" 1)"
wait $job
rc=$?
[ $rc = 143 ] || { bad "SIGTERM to rank 1: status $rc, want 143"; tail "$out/parts.log"; }
grep -q "resume with:" "$out/parts.log" || bad "no resume hint after the stop"
"${mpirun[@]}" "$bin" "${common[@]}" --collective-timeout 60 --batch 16 --epochs 2 --out "$out/parts" --resume >>"$out/parts.log" 2>&1 || { bad "2-rank resume failed"; tail "$out/parts.log"; }
python3 "$here/compare_runs.py" "$out/whole" "$out/parts" || bad "stopped and resumed 2-rank run differs from the uninterrupted one"

# 3. Onto another rank count: 1 rank of batch 32 is the same global batch (allowed); batch 16 is not.
cp -r "$out/whole" "$out/one"
"$bin" "${common[@]}" --batch 32 --epochs 3 --out "$out/one" --resume >"$out/one.log" 2>&1 || { bad "1-rank resume of a 2-rank checkpoint failed"; tail "$out/one.log"; }
[ "$(grep -c . "$out/one/metrics.jsonl")" = 3 ] || bad "the 1-rank resume should add epoch 3"
"$bin" "${common[@]}" --batch 16 --epochs 3 --out "$out/one" --resume >"$out/other.log" 2>&1
rc=$?
{ [ $rc = 2 ] && grep -q 'batch (checkpoint 32, now 16)' "$out/other.log"; } || { bad "another global batch: status $rc"; tail -3 "$out/other.log"; }

# Refused on every rank, with rank 0's reason: the concat critic cannot see other ranks' images.
"${mpirun[@]}" "$bin" "${common[@]}" --batch 16 --local-critic concat --out "$out/concat" >"$out/concat.log" 2>&1
rc=$?
{ [ $rc = 2 ] && grep -q "need the dot critics" "$out/concat.log"; } || { bad "concat critic with ring negatives: status $rc"; tail -3 "$out/concat.log"; }

# 4. A killed rank: mpirun ends the job at once (bound: 30 s).
"${mpirun[@]}" "$bin" "${common[@]}" --collective-timeout 60 --batch 16 --epochs 50 --out "$out/killed" >"$out/killed.log" 2>&1 &
job=$!
wait_step "$out/killed" 3 || bad "the killed run never reached step 3"
start=$(date +%s)
kill -KILL "$(rank_pid "$out/killed" 1)"
wait $job
rc=$?
took=$(( $(date +%s) - start ))
{ [ $rc != 0 ] && [ $took -le 30 ]; } || bad "killed rank: status $rc after $took s (want non-zero within 30 s)"
say "killed rank: job ended in $took s, status $rc"

# 5. A hung rank (stopped): the others' watchdog ends the job after --collective-timeout 4 s
#    (bound: 4 s + 20 s).
"${mpirun[@]}" "$bin" "${common[@]}" --batch 16 --epochs 50 --collective-timeout 4 --out "$out/hung" >"$out/hung.log" 2>&1 &
job=$!
wait_step "$out/hung" 3 || bad "the hung run never reached step 3"
start=$(date +%s)
kill -STOP "$(rank_pid "$out/hung" 1)"
wait $job
rc=$?
took=$(( $(date +%s) - start ))
{ [ $rc = 5 ] && [ $took -le 24 ] && grep -q "has waited .* for the other ranks" "$out/hung.log"; } ||
  { bad "hung rank: status $rc after $took s (want 5 within 24 s, with the watchdog's message)"; tail -5 "$out/hung.log"; }
say "hung rank: job ended in $took s, status $rc: $(grep -o 'rank 0 of 2: .* for the other ranks' "$out/hung.log" | head -1)"

[ $fail = 0 ] && echo "all dim-train rank checks passed"
exit $fail
