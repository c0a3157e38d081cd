#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang-22, ASan+UBSan, build-fuzz/) and runs
# each one: first its regression reproducers (test/fuzz/regressions/<h>/),
# then fuzzing for SECONDS (default 60) on its corpus.
#   scripts/fuzz.sh [--smoke] [SECONDS] [HARNESS...]
#   --smoke: the reproducers plus 5 s per harness (what scripts/test.sh runs)
# Harnesses: onnx-import npy calib-table pipeline. The growing corpus is kept
# in $FUZZ_DIR/corpus/<h> (default build-fuzz/fuzz); crashes go to
# $FUZZ_DIR/artifacts/<h>/. Exit code 1 if a reproducer or fuzzing failed.
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_ARGS (extra libFuzzer
# flags, e.g. -runs=1000000).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=60
smoke=0
harnesses=()
for a in "$@"; do
  case "$a" in
    --smoke) smoke=1; secs=5 ;;
    [0-9]*) secs=$a ;;
    onnx-import|npy|calib-table|pipeline) harnesses+=("$a") ;;
    *) echo "fuzz.sh: unknown argument '$a'" >&2; exit 2 ;;
  esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=(onnx-import npy calib-table pipeline)

BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
FUZZ_DIR=${FUZZ_DIR:-$BUILD_DIR/fuzz}
scripts/setup.sh --no-build
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  mkdir -p "$BUILD_DIR"
  CC=clang-22 CXX=clang++-22 cmake -G Ninja -S . -B "$BUILD_DIR" \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DQO_FUZZ=ON > "$BUILD_DIR/cmake.log" 2>&1 || { cat "$BUILD_DIR/cmake.log"; exit 1; }
fi
ninja -C "$BUILD_DIR" qo-fuzzers | grep -v '^\[' || true
test -x "$BUILD_DIR/bin/qo-fuzz-pipeline"
rm -rf "$FUZZ_DIR/seeds"
/usr/bin/python3 test/fuzz/make_corpus.py "$FUZZ_DIR/seeds"

# Limits: an input that needs more than 1 GB in one allocation, 2 GB in all
# or 10 s is a finding, as is a leak.
common=(-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -print_final_stats=1)
status=0
for h in "${harnesses[@]}"; do
  bin="$BUILD_DIR/bin/qo-fuzz-$h"
  dict=(); [ -f "test/fuzz/dict/$h.dict" ] && dict=(-dict="test/fuzz/dict/$h.dict")
  # The example models are up to 400 KB; mutating them is 30x slower than the
  # small models, which reach the same importers.
  maxlen=(); [ "$h" = onnx-import ] && maxlen=(-max_len=32768)
  regs=(test/fuzz/regressions/"$h"/*)
  if [ -e "${regs[0]}" ]; then
    if "$bin" "${common[@]}" "${regs[@]}" > "$FUZZ_DIR/$h-regressions.log" 2>&1; then
      echo "fuzz $h: ${#regs[@]} regression reproducer(s) pass"
    else
      echo "fuzz $h: a regression reproducer FAILED:"; tail -40 "$FUZZ_DIR/$h-regressions.log"
      status=1
      continue
    fi
  fi
  mkdir -p "$FUZZ_DIR/corpus/$h" "$FUZZ_DIR/artifacts/$h"
  seeds=("$FUZZ_DIR/seeds/$h")
  for d in "test/fuzz/seeds/$h" "test/fuzz/regressions/$h"; do [ -d "$d" ] && seeds+=("$d"); done
  log="$FUZZ_DIR/$h.log"
  if "$bin" "${common[@]}" "${dict[@]}" "${maxlen[@]}" -max_total_time="$secs" \
       -artifact_prefix="$FUZZ_DIR/artifacts/$h/" ${FUZZ_ARGS:-} \
       "$FUZZ_DIR/corpus/$h" "${seeds[@]}" > "$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+' || true)
    echo "fuzz $h: ${secs}s, ${runs:-?} executions, $last"
  else
    echo "fuzz $h: FAILED (artifact in $FUZZ_DIR/artifacts/$h/):"; grep -E 'ERROR|SUMMARY|^    #[0-9]' "$log" | head -30
    status=1
  fi
done
exit $status
