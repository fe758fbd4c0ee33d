#!/usr/bin/env bash
# dim-eval as 2 MPI ranks: the data-parallel feature extraction gives rank 0 exactly the
# features, and so the report, of one process (exports compared byte for byte, the JSON report
# without its timing), baselines included (rank 0's batch-norm statistics reach the other rank).
set -u
train=$1 evalbin=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { echo "FAIL: Fashion-MNIST is missing"; exit 1; }
"$train" --limit-train 512 --limit-test 128 --mi-units 32 --batch 32 --epochs 1 --no-plot --progress-seconds 1000 \
  --out "$out/run" >"$out/train.log" 2>&1 || { echo "FAIL: training the checkpoint"; tail "$out/train.log"; exit 1; }
args=("$out/run/checkpoint.safetensors" --budget quick --limit-train 600 --limit-test 200 --probe-epochs 1
      --linear-epochs 1 --progress-seconds 1000)
"$evalbin" "${args[@]}" --export "$out/one" --json "$out/one.json" >"$out/one.log" 2>&1 || { echo "FAIL: 1 rank"; tail "$out/one.log"; exit 1; }
mpirun -np 2 "$evalbin" "${args[@]}" --export "$out/two" --json "$out/two.json" >"$out/two.log" 2>&1 || { echo "FAIL: 2 ranks"; tail "$out/two.log"; exit 1; }
for f in "$out"/one/*.npy; do
  cmp -s "$f" "$out/two/$(basename "$f")" || { echo "FAIL: $(basename "$f") differs between 1 and 2 ranks"; fail=1; }
done
python3 - "$out/one.json" "$out/two.json" <<'PY' || fail=1
import json, sys
def load(p):
    j = json.load(open(p))
    j.pop("seconds", None)
    return j
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    sys.exit("FAIL: the 2-rank report differs from the 1-rank one")
print("same report:", len(a.get("rows", [])), "rows")
PY
[ "$(grep -c 'MLP probe' "$out/two.log")" -ge 1 ] || { echo "FAIL: rank 0 printed no probe line"; fail=1; }
[ $fail = 0 ] && echo "dim-eval on 2 ranks matches 1 rank"
exit $fail
