#!/usr/bin/env bash
# A fuzzing campaign: every target (or FUZZ_TARGETS) for SECONDS each, JOBS libFuzzer jobs at a
# time, the corpus kept in fuzz/corpus/<target>/ and minimised afterwards (`cargo fuzz cmin`),
# and a Markdown table of each target's executions, rate, coverage, corpus and findings written
# to fuzz/campaigns/<UTC date>/summary.md (with every job's log beside it) for FUZZING.md.
#
#   fuzz/campaign.sh 1800 2                  # 30 min per target, 2 jobs (2 cores)
#   FUZZ_TARGETS="pipeline redact" fuzz/campaign.sh 3600 2
#   FUZZ_TARGETS="archive split" fuzz/campaign.sh 1800 1 & FUZZ_TARGETS="serve mcp" fuzz/campaign.sh 1800 1
#
# Unlike run.sh it does not stop at the first failure: a target's crash, leak, timeout or
# out-of-memory input is kept in fuzz/artifacts/<target>/, counted in the table, and the
# campaign goes on with the next target; it exits non-zero when any target found something.
# Every input found this way becomes a regression test in tests/ before its fix.
set -euo pipefail
cd "$(dirname "$0")"

secs="${1:-1800}"
jobs="${2:-1}"
# shellcheck source=targets.sh
source ./targets.sh

python3 seeds.py >/dev/null
scratch="$(mktemp -d "${TMPDIR:-/tmp}/sbdiag-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
out="campaigns/$(date -u +%Y-%m-%dT%H-%M-%SZ)-$$"
mkdir -p "$out"

cargo fuzz build
{
  echo "Campaign of $(date -u +%Y-%m-%d), ${secs} s per target, ${jobs} job(s), on $(nproc) core(s), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo
  echo "| target | executions | per job-second | coverage (cov / ft) | corpus before → after cmin | findings |"
  echo "| --- | --- | --- | --- | --- | --- |"
} >"$out/summary.md"

found_any=0
for t in $targets; do
  mkdir -p "corpus/$t" "artifacts/$t" "$out/$t"
  dict="$scratch/$t.dict"
  # shellcheck disable=SC2046
  cat $(dicts "$t") >"$dict"
  before_artifacts=$(find "artifacts/$t" -type f | wc -l)
  echo "== $t: ${secs} s, ${jobs} job(s)"
  # With -jobs, libFuzzer writes each job's output to fuzz-<n>.log in the working folder; one
  # job runs in the foreground instead, so that two campaigns of one job each (one per core,
  # different FUZZ_TARGETS) can run side by side from this folder.
  parallel=()
  if [ "$jobs" -gt 1 ]; then
    rm -f fuzz-*.log
    parallel=(-jobs="$jobs" -workers="$jobs")
  fi
  TMPDIR="$scratch" cargo fuzz run "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -timeout="$(timeout_of "$t")" -rss_limit_mb=2048 \
    -max_len="$(max_len "$t")" -dict="$dict" -print_final_stats=1 \
    "${parallel[@]}" -artifact_prefix="artifacts/$t/" \
    >"$out/$t/run.log" 2>&1 || true
  if [ "$jobs" -gt 1 ]; then mv fuzz-*.log "$out/$t/" 2>/dev/null || true; fi
  logs=("$out/$t"/*.log)
  execs=$(cat "${logs[@]}" | sed -n 's/^stat::number_of_executed_units: *//p' | awk '{s+=$1} END {print s+0}')
  # The last status line of each job: its coverage (edges) and features.
  cov=$(for l in "${logs[@]}"; do grep -aoE 'cov: [0-9]+ ft: [0-9]+' "$l" | tail -1; done |
    awk '{if ($2>c) c=$2; if ($4>f) f=$4} END {print c+0 " / " f+0}')
  corpus_before=$(find "corpus/$t" -type f | wc -l)
  cargo fuzz cmin "$t" "corpus/$t" -- -max_len="$(max_len "$t")" \
    -timeout="$(timeout_of "$t")" -rss_limit_mb=2048 >"$out/$t/cmin.log" 2>&1 || true
  corpus_after=$(find "corpus/$t" -type f | wc -l)
  findings=$(($(find "artifacts/$t" -type f | wc -l) - before_artifacts))
  if [ "$findings" -gt 0 ]; then found_any=1; fi
  rate=$(awk -v e="$execs" -v s="$secs" -v j="$jobs" 'BEGIN {printf "%.0f", e / (s * j)}')
  echo "| \`$t\` | $execs | $rate | $cov | $corpus_before → $corpus_after | $findings |" >>"$out/summary.md"
  echo "   $execs executions, $rate per job-second, cov/ft $cov, corpus $corpus_before → $corpus_after, $findings finding(s)"
done
echo
cat "$out/summary.md"
if [ "$found_any" = 1 ]; then
  echo "findings kept in fuzz/artifacts/<target>/: reproduce with cargo fuzz run <target> <file>" >&2
  exit 1
fi
