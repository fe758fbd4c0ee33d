#!/usr/bin/env bash
# check_libraries.sh BIN_DIR BUILD_INFO ENV_FILE: every executable in BIN_DIR resolves all of
# its libraries through the dynamic loader (under the caller's LD_LIBRARY_PATH), and the CUDA
# libraries report their versions (appended to ENV_FILE) beside those the bundle was built with.
set -uo pipefail
bin=$1 info=$2 env_file=$3
here=$(cd "$(dirname "$0")" && pwd)
bad=0
for exe in "$bin"/*; do
  missing=$(ldd "$exe" | grep "not found")
  if [ -n "$missing" ]; then
    echo "$(basename "$exe"): unresolved libraries:"
    echo "$missing"
    bad=1
  fi
done
python3 "$here/libversions.py" "$bin/cuda_backend_tests" "$info" | tee -a "$env_file"
if [ $bad -eq 0 ]; then
  echo "libraries: all $(ls "$bin" | wc -l) executables resolve; cuDNN $(sed -n 's/^cudnn .*-> \([^:]*\): \([^ ]*\).*/\2 from \1/p' "$env_file" | head -1)"
fi
exit $bad
