#!/usr/bin/env bash
# dim-train's documented exit statuses and messages, through the real binary:
# 0 help, 2 usage, 3 bad input, 130 on SIGINT (after writing a checkpoint that resumes).
set -u
bin=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
expect() {  # expect STATUS TEXT -- ARGS...: runs dim-train ARGS, checks its status and that stderr/stdout has TEXT
  local want=$1 text=$2
  shift 3
  local log rc
  log=$("$bin" "$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$want" ] || ! grep -qF -- "$text" <<<"$log"; then
    echo "FAIL: dim-train $* -> status $rc (want $want), output lacks '$text':"
    echo "$log" | tail -5
    fail=1
  else
    echo "ok: dim-train $* -> $rc"
  fi
}
expect 0 "Exit status" -- --help
expect 2 "--nonsense" -- --nonsense
expect 2 "--lr must be > 0" -- --lr 0 --out "$out/a"
expect 2 "--preset" -- --preset dim-x --out "$out/a"
expect 2 "--estimator" -- --estimator nope --out "$out/a"
expect 2 "--local-critic has no effect" -- --preset dim-g --local-critic concat --out "$out/a"
expect 2 "--penalty has no effect" -- --gamma 0 --penalty 2 --out "$out/a"
expect 2 "--concat-negatives applies" -- --concat-negatives 3 --out "$out/a"
expect 3 "/nonexistent/cifar" -- --data cifar10:/nonexistent/cifar --out "$out/a"
if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  common=(--limit-train 1280 --limit-test 256 --mi-units 32 --no-plot --progress-seconds 1000 --out "$out/run")
  # A SIGINT mid-run: the step finishes, the checkpoint is written, the status is 130.
  "$bin" "${common[@]}" --epochs 3 >"$out/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do grep -q '"step":10' "$out/run/steps.jsonl" 2>/dev/null && break; sleep 0.1; done
  kill -INT $pid
  wait $pid
  rc=$?
  if [ $rc -ne 130 ] || ! grep -q "resume with:" "$out/log"; then
    echo "FAIL: SIGINT -> status $rc (want 130) or no resume hint:"; tail -3 "$out/log"; fail=1
  else
    echo "ok: SIGINT -> 130, $(grep -o 'after step [0-9]*' "$out/log")"
  fi
  expect 2 "holds another run" -- "${common[@]}" --epochs 3
  expect 0 "probe accuracy" -- "${common[@]}" --epochs 1 --resume
fi
exit $fail
