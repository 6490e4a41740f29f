#!/usr/bin/env bash
# A short libFuzzer run of every fuzz target (CI): builds the targets with clang in
# build/fuzz (every component with coverage and ASan/UBSan) and runs each, two at a time, for
# ${FUZZ_SECONDS:-30} s (the issue's minimum) from its committed seed corpus (the component's fuzz_corpus/).
# New inputs go to a scratch folder, so the committed corpora stay as they are.
#   scripts/fuzz_smoke.sh [target...]   (default: all)
# A crash prints the reproducer's bytes (base64) and fails the step: add it to the
# target's corpus and a regression test to the component's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (scripts/apt-packages.txt installs it)" >&2
  exit 1
fi
export PATH="$PWD/.venv/bin:$PATH"
build=build/fuzz
# target, binary (under $build/src/dxpy), corpus, what it fuzzes
targets=(
  "protocol_fuzz_decoder protocol src/dxpy/protocol/fuzz_corpus protocol-decoders"
  "index_fuzz_loader index src/dxpy/index/fuzz_corpus dxti-loader"
  "graph_fuzz_loader graph src/dxpy/graph/fuzz_corpus graph-loader"
  "discovery_fuzz_scanner discovery src/dxpy/discovery/fuzz_corpus source-scanner"
  "config_fuzz_readers config src/dxpy/config/fuzz_corpus config-readers"
  "snapshot_fuzz_index snapshot src/dxpy/snapshot/fuzz_corpus/index snapshot-index"
  "snapshot_fuzz_snap snapshot src/dxpy/snapshot/fuzz_corpus/snap snap-file-parser"
  "fixture_fuzz_entry fixture src/dxpy/fixture/fuzz_corpus fixture-cache-header"
)
want=("$@")
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_C_COMPILER=clang -DDXPY_FUZZ=ON -DDXPY_BUILD_PYTHON=OFF -DPython_EXECUTABLE="$PWD/.venv/bin/python" >/dev/null
fi
names=()
for t in "${targets[@]}"; do
  read -r name _ _ _ <<<"$t"
  if [ ${#want[@]} -eq 0 ] || [[ " ${want[*]} " == *" $name "* ]]; then names+=("$name"); fi
done
nice -n "${FUZZ_NICE:-0}" cmake --build "$build" --target "${names[@]}" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
secs=${FUZZ_SECONDS:-30}
# Two targets at a time (a libFuzzer run is one process on one core; CI has two).
parallel=${FUZZ_JOBS:-2}

fuzz_one() {  # name dir corpus what: runs one target, writes its verdict to $work/$name.verdict
  local name=$1 dir=$2 corpus=$3 what=$4 log="$work/$1.log" run="$work/run-$1"
  mkdir -p "$work/$name" "$run"
  if ! (cd "$run" && "$root/$build/src/dxpy/$dir/$name" -max_total_time="$secs" -print_final_stats=1 \
          -timeout=10 -rss_limit_mb=2048 "$work/$name" "$root/$corpus") >"$log" 2>&1; then
    {
      tail -40 "$log"
      for crash in "$run"/crash-* "$run"/timeout-* "$run"/oom-* "$run"/leak-*; do
        [ -f "$crash" ] && { echo "reproducer $(basename "$crash") (base64):"; base64 -w0 "$crash"; echo; }
      done
      echo "fuzz: $what: the fuzzer found a crash (above)"
    } >"$work/$name.verdict"
    return 1
  fi
  local execs
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
  echo "fuzz: $what, ${execs} inputs in ${secs} s, no crash" >"$work/$name.verdict"
}

root=$PWD
running=0
order=()
for t in "${targets[@]}"; do
  read -r name dir corpus what <<<"$t"
  [[ " ${names[*]} " == *" $name "* ]] || continue
  if [ "$running" -ge "$parallel" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$name" "$dir" "$corpus" "$what" &
  running=$((running + 1))
  order+=("$name")
done
wait || true
failed=0
for name in "${order[@]}"; do
  cat "$work/$name.verdict" 2>/dev/null || echo "fuzz: $name: no verdict (the run was interrupted)"
  grep -q 'found a crash' "$work/$name.verdict" 2>/dev/null && failed=1
  [ -f "$work/$name.verdict" ] || failed=1
done
exit $failed
