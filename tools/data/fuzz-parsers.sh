#!/usr/bin/env bash
# Builds the libFuzzer targets of the dataset parsers with clang++ (ASan + UBSan) and runs each
# for a bounded time, starting from generated seed inputs. Exits non-zero if any target finds a
# crash, a sanitizer error or an exception other than DataError (the reproducer is kept in
# BUILD_DIR/findings/).
#
#   tools/data/fuzz-parsers.sh [--seconds N] [--build-dir DIR] [--only TARGET] [--build-only]
#
# Defaults: 20 seconds per target, build folder build-fuzz/ in the repository root.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds=20
build="$repo/build-fuzz"
only=""
build_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz-parsers.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

CXX="${CXX_FUZZ:-clang++}"
command -v "$CXX" >/dev/null || { echo "fuzz-parsers.sh: $CXX not found (Debian packages clang libclang-rt-14-dev)" >&2; exit 2; }

targets=(fuzz_idx fuzz_cifar fuzz_stl10 fuzz_folds fuzz_text_lists fuzz_image)
# The parser sources each target needs (all are linked into every target; they are small).
sources=(bytes idx_format cifar_format stl10_format text_formats image_codec stb_backend)
# Two UBSan checks are off for the third-party stb file only, for undefined behaviour of
# stb_image 2.27 on corrupt input that cannot touch memory out of bounds: memcpy of 0 bytes
# from a null buffer (a zero-length PNG IDAT chunk), and bit-buffer shifts by more than 31
# after a corrupt JPEG stream drives its bit count negative (garbage pixels, no memory access).
# ASan and every other check stay on for stb; the memory errors stb 2.27 does have on corrupt
# JPEGs are stopped before stb runs (check_jpeg_segments in data/src/image_codec.cpp).
stb_flags=(-fno-sanitize=nonnull-attribute,shift)

flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
       -I"$repo/data/include" -I"$repo/tests/data")
mkdir -p "$build/obj" "$build/bin" "$build/corpus" "$build/findings"

# Rebuild an object when any input is newer (headers included, and this script for its flags);
# binaries are always relinked (cheap).
newest_input="$(find "$repo/data" "$repo/tools/data/fuzz" "$repo/tests/data/synthetic_files."* "$0" -type f -printf '%T@\n' | sort -n | tail -1)"
stale() {  # stale OUTPUT
  [ ! -e "$1" ] && return 0
  awk -v a="$(stat -c %Y "$1")" -v b="$newest_input" 'BEGIN { exit !(b > a) }'
}

compile() {  # compile SRC OBJ EXTRA_FLAGS...
  local src="$1" obj="$2"; shift 2
  if stale "$obj"; then
    echo "compile $(basename "$src")"
    "$CXX" "${flags[@]}" "$@" -c "$src" -o "$obj"
  fi
}

objects=()
pids=()
for s in "${sources[@]}"; do
  extra=()
  [ "$s" = stb_backend ] && extra=("${stb_flags[@]}")
  compile "$repo/data/src/$s.cpp" "$build/obj/$s.o" -fsanitize=fuzzer-no-link "${extra[@]}" &
  pids+=($!)
  objects+=("$build/obj/$s.o")
  # Two compiles at a time: the machines are shared.
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done

# Seed corpus, written by a plain (sanitized, non-fuzzing) program.
compile "$repo/tests/data/synthetic_files.cpp" "$build/obj/synthetic_files.o"
compile "$repo/tools/data/fuzz/fuzz_seeds.cpp" "$build/obj/fuzz_seeds.o"
"$CXX" "${flags[@]}" "$build/obj/fuzz_seeds.o" "$build/obj/synthetic_files.o" "${objects[@]}" -lz -o "$build/bin/fuzz_seeds"
"$build/bin/fuzz_seeds" "$build/corpus"

for t in "${targets[@]}"; do
  [ -n "$only" ] && [ "$only" != "$t" ] && continue
  compile "$repo/tools/data/fuzz/$t.cpp" "$build/obj/$t.o" -fsanitize=fuzzer-no-link
  "$CXX" "${flags[@]}" -fsanitize=fuzzer "$build/obj/$t.o" "${objects[@]}" -lz -o "$build/bin/$t"
done
[ "$build_only" = 1 ] && exit 0

failed=()
for t in "${targets[@]}"; do
  [ -n "$only" ] && [ "$only" != "$t" ] && continue
  mkdir -p "$build/corpus/$t" "$build/findings/$t"
  echo "== $t: fuzzing for ${seconds}s"
  # max_len 64 KiB: room for a few STL-10 images and real image headers.
  if "$build/bin/$t" "$build/corpus/$t" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
       -timeout=10 -print_final_stats=1 -artifact_prefix="$build/findings/$t/" \
       >"$build/$t.log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$build/$t.log" | tr '\n' ' '; echo
  else
    echo "!! $t FAILED — log: $build/$t.log; reproducer in $build/findings/$t/"
    grep -E "ERROR|SUMMARY|runtime error|terminate|what\(\)" "$build/$t.log" | head -5 || true
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz-parsers.sh: findings in: ${failed[*]}"
  exit 1
fi
echo "fuzz-parsers.sh: no findings (${seconds}s per target)"
