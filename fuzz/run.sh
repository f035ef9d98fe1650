#!/usr/bin/env bash
# Builds every fuzz target of sbdiag and runs each for SECONDS (default 10), one after the
# other; exits non-zero on the first crash, panic, timeout (-timeout=10 s per input, 30 s for mcp), leak or
# out-of-memory. libFuzzer writes the input that failed to fuzz/artifacts/<target>/.
#
#   fuzz/run.sh [SECONDS]                  # every target (CI runs `fuzz/run.sh 8`)
#   FUZZ_TARGETS="split decode" fuzz/run.sh 60
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`) and python3 (seed corpora). The stable
# toolchain is enough: RUSTC_BOOTSTRAP=1 lets it accept the nightly flags cargo-fuzz passes.
#
# Longer runs by hand (the corpus grows in fuzz/corpus/<target>, kept between runs):
#   cd fuzz && python3 seeds.py
#   RUSTC_BOOTSTRAP=1 cargo fuzz run pipeline corpus/pipeline seeds/pipeline -- \
#       -max_total_time=3600 -timeout=10 -max_len=16384 -dict=<(cat dict/*.dict) -jobs=2
# The pipeline and redact targets mostly build their bundles from the samples (src/grammar.rs);
# `pipeline` renders one report a run (the input chooses which: see Input::with_format in
# src/lib.rs) and takes inputs of at most 16 KB (targets.sh), so that a run stays short (about
# 51 runs a second under AddressSanitizer on a quiet core here, 1,447 natively: see
# examples/replay.rs and FUZZING.md).
# SBDIAG_FUZZ_DUMP=<folder> writes each bundle there as a textual bundle (with the `@format`
# the pipeline target rendered), to replay a failure:
#   SBDIAG_FUZZ_DUMP=/tmp/d RUSTC_BOOTSTRAP=1 cargo fuzz run redact artifacts/redact/crash-…
# Reproduce / minimise a failure:
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> artifacts/<target>/crash-…
#   RUSTC_BOOTSTRAP=1 cargo fuzz tmin <target> artifacts/<target>/crash-…
set -euo pipefail
cd "$(dirname "$0")"

secs="${1:-10}"
# The targets, their input sizes, per-input time limits and dictionaries.
# shellcheck source=targets.sh
source ./targets.sh

python3 seeds.py >/dev/null
# The fuzzed code writes its inputs to a scratch file under $TMPDIR (see src/lib.rs).
scratch="$(mktemp -d "${TMPDIR:-/tmp}/sbdiag-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

start=$(date +%s)
cargo fuzz build
echo "fuzz build: $(($(date +%s) - start)) s"

for t in $targets; do
  mkdir -p "corpus/$t"
  dict="$scratch/$t.dict"
  # shellcheck disable=SC2046
  cat $(dicts "$t") >"$dict"
  echo "== fuzzing $t for ${secs}s"
  TMPDIR="$scratch" cargo fuzz run "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -timeout="$(timeout_of "$t")" -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
    -dict="$dict" -print_final_stats=1 2>&1 |
    sed -E -e '/^#[0-9]+\s+(NEW|REDUCE|pulse)/d' -e '/^\s+NEW_FUNC/d' \
      -e '/Recommended dictionary/,/End of recommended dictionary/d' || {
    echo "fuzz target $t FAILED: see the output above and fuzz/artifacts/$t/" >&2
    exit 1
  }
done
echo "fuzzing done: $(($(date +%s) - start)) s in all"
