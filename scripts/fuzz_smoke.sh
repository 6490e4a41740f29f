#!/usr/bin/env bash
# A short libFuzzer run of the protocol decoders (CI): builds only the fuzz target with clang
# in build/fuzz and runs it for ${FUZZ_SECONDS:-20} s from the committed seed corpus.
# New inputs go to a scratch folder, so the committed corpus stays as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (scripts/apt-packages.txt installs it)" >&2
  exit 1
fi
export PATH="$PWD/.venv/bin:$PATH"
build=build/fuzz
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_C_COMPILER=clang -DDXPY_FUZZ=ON -DDXPY_BUILD_PYTHON=OFF -DPython_EXECUTABLE="$PWD/.venv/bin/python" >/dev/null
fi
cmake --build "$build" --target protocol_fuzz_decoder >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log="$work/log"
if ! "$build/src/dxpy/protocol/protocol_fuzz_decoder" -max_total_time="${FUZZ_SECONDS:-20}" -print_final_stats=1 \
      "$work" src/dxpy/protocol/fuzz_corpus >"$log" 2>&1; then
  tail -40 "$log"
  echo "fuzz: the protocol decoder fuzzer found a crash (above)"
  exit 1
fi
execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
echo "fuzz: protocol decoders, ${execs} inputs in ${FUZZ_SECONDS:-20} s, no crash"
