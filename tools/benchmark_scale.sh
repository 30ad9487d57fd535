#!/usr/bin/env bash
# Scale benchmark (not a test): N synthetic prompts (default 1,000,000: half recombined from CoCoNot
# original as should-refuse, half from contrast as should-answer, `refusal-eval synth`) evaluated end to
# end by jobs/evaluate.sh with the default config. Prints the wall time, the score stage's time and
# prompts/s, the sweep's time, and the peak resident memory of the JVM (driver and executor in local
# mode; /usr/bin/time). Usage: tools/benchmark_scale.sh [N] [evaluate.sh args...]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}; shift || true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=jobs/common.sh
source jobs/common.sh
build_if_needed
synth() {
  java $jvm_opts -cp "target/classes:$(cat target/classpath.txt)" dev.refusaltokens.eval.job.Main synth "$@" >/dev/null
}
synth --source data/coconot/coconot_eval.jsonl --rows $((n / 2)) --out "$work/refuse.jsonl"
synth --source data/coconot/coconot_contrast_eval.jsonl --rows $((n - n / 2)) --out "$work/answer.jsonl"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(lscpu | sed -n 's/Model name: *//p')"
start=$(date +%s.%N)
/usr/bin/time -v -o "$work/time.txt" jobs/evaluate.sh --output "$work/warehouse" --run-id "scale-$n" \
  --set "benchmarks=[{name: synth_refuse, path: '$work/refuse.jsonl', should_refuse: true}, {name: synth_answer, path: '$work/answer.jsonl', should_refuse: false}]" \
  "$@" > "$work/stdout" 2> "$work/log"
end=$(date +%s.%N)
score=$(sed -n 's/.*Score stage: .* in \([0-9.]*\) s$/\1/p' "$work/log")
sweep=$(sed -n 's/.*Sweep stage: .* in \([0-9.]*\) s$/\1/p' "$work/log")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
echo "prompts: $n"
echo "wall_s: $(echo "$end - $start" | bc)"
echo "score_stage_s: $score"
echo "score_prompts_per_s: $(echo "$n / $score" | bc)"
echo "sweep_stage_s: $sweep"
echo "peak_rss_mb: $((rss / 1024))"
grep -E "Run scale|padding|chunk" "$work/stdout" "$work/log" | sed 's/^[^:]*://' | head -5
