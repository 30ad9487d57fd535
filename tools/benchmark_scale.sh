#!/usr/bin/env bash
# Scale benchmark (not a test): the scaling curve of `evaluate` end to end, and next to every point the
# floor measured in the same invocation on the same prompts, so every figure is a ratio taken in one run.
#
#   tools/benchmark_scale.sh [--sizes 10000,100000,200000,1000000] [--repeats N] [--slots N] [--heap SIZE]
#                            [-- evaluate.sh args...]
#
# For each size N: N synthetic prompts (`refusal-eval synth`: half recombined from CoCoNot original as
# should-refuse, half from contrast as should-answer), then per repeat
#   - the floor: `refusal-eval raw-forward` (no Spark): render + tokenize on --slots threads, then the
#     score stage's batches through the model on --slots threads (1 libtorch thread each, as the job);
#   - `jobs/evaluate.sh` end to end on local[--slots] with the default config and responses off (the
#     respond stage is the generation layer, measured by jobs/benchmark.sh), under /usr/bin/time.
# Prints, per size, the medians over the repeats:
#   wall_s score_s sweep_s raw_forward_s raw_tokenize_s wall_vs_floor (wall / (forward + tokenize))
#   score_vs_floor sweep_vs_score us_per_prompt_outside_forward ((wall - raw forward) / N) peak_rss_mb
# and, when both sizes ran, rss_1000000_vs_100000. Defaults: the four sizes, 1 repeat, 2 slots, 4g heap
# (about 14 minutes on a 2-core machine). Logs stay in a temporary folder named at the end (KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=10000,100000,200000,1000000 repeats=1 slots=2 heap=4g
while [[ $# -gt 0 ]]; do
  case $1 in
    --sizes) sizes=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --slots) slots=$2; shift 2 ;;
    --heap) heap=$2; shift 2 ;;
    --) shift; break ;;
    *) sed -n '2,20p' "$0" >&2; exit 2 ;;
  esac
done
[[ $sizes =~ ^[0-9]+(,[0-9]+)*$ && $repeats =~ ^[1-9][0-9]*$ && $slots =~ ^[1-9][0-9]*$ ]] || {
  echo "benchmark_scale: --sizes takes N[,N...], --repeats and --slots a positive integer" >&2; exit 2; }
work=$(mktemp -d /tmp/benchmark-scale.XXXXXX)
trap '[[ ${KEEP:-0} == 1 ]] || rm -rf "$work"' EXIT
# shellcheck source=jobs/common.sh
source jobs/common.sh
build_if_needed
export JAVA_OPTS=-Xmx$heap
main() {
  # shellcheck disable=SC2086
  java $jvm_opts $JAVA_OPTS -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 \
    -Dlog4j2.configurationFile=conf/log4j2.properties \
    -cp "target/classes:$(cat target/classpath.txt)" dev.refusaltokens.eval.job.Main "$@"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
key() { sed -n "s/^$1: //p" "$2"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(lscpu | sed -n 's/Model name: *//p'); slots $slots, heap $heap, repeats $repeats"
declare -A rss
for n in ${sizes//,/ }; do
  main synth --source data/coconot/coconot_eval.jsonl --rows $((n / 2)) --out "$work/refuse-$n.jsonl" >/dev/null
  main synth --source data/coconot/coconot_contrast_eval.jsonl --rows $((n - n / 2)) --out "$work/answer-$n.jsonl" >/dev/null
  benchmarks="benchmarks=[{name: synth_refuse, path: '$work/refuse-$n.jsonl', should_refuse: true}, {name: synth_answer, path: '$work/answer-$n.jsonl', should_refuse: false}]"
  : > "$work/figures-$n"
  for r in $(seq "$repeats"); do
    main raw-forward --config conf/evaluate.yaml --set "$benchmarks" --slots "$slots" > "$work/raw-$n-$r" 2> "$work/raw-$n-$r.log" \
      || { echo "benchmark_scale: raw-forward failed at $n prompts (see $work/raw-$n-$r.log)" >&2; KEEP=1; exit 1; }
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$work/time-$n-$r" jobs/evaluate.sh --output "$work/warehouse" --run-id "scale-$n-$r" \
      --set "$benchmarks" --set "spark.master=local[$slots]" --set responses.enabled=false "$@" \
      > "$work/eval-$n-$r" 2> "$work/eval-$n-$r.log" \
      || { echo "benchmark_scale: evaluate failed at $n prompts (see $work/eval-$n-$r.log)" >&2; KEEP=1; exit 1; }
    end=$(date +%s.%N)
    rm -rf "$work/warehouse"
    {
      echo "wall_s $(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
      echo "score_s $(sed -n 's/.*Score stage: .* in \([0-9.]*\) s$/\1/p' "$work/eval-$n-$r.log")"
      echo "sweep_s $(sed -n 's/.*Sweep stage: tables .* in \([0-9.]*\) s$/\1/p' "$work/eval-$n-$r.log")"
      echo "raw_forward_s $(key raw_forward_s "$work/raw-$n-$r")"
      echo "raw_tokenize_s $(key raw_tokenize_s "$work/raw-$n-$r")"
      echo "peak_rss_mb $(( $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time-$n-$r") / 1024 ))"
    } >> "$work/figures-$n"
  done
  m() { awk -v k="$1" '$1 == k { print $2 }' "$work/figures-$n" | median; }
  wall=$(m wall_s) score=$(m score_s) sweep=$(m sweep_s) fwd=$(m raw_forward_s) tok=$(m raw_tokenize_s)
  rss[$n]=$(m peak_rss_mb)
  echo "prompts: $n"
  echo "  wall_s: $wall  score_s: $score  sweep_s: $sweep  raw_forward_s: $fwd  raw_tokenize_s: $tok"
  echo "  wall_vs_floor: $(ratio "$wall" "$(awk -v a="$fwd" -v b="$tok" 'BEGIN { print a + b }')")  score_vs_floor: $(ratio "$score" "$(awk -v a="$fwd" -v b="$tok" 'BEGIN { print a + b }')")  sweep_vs_score: $(ratio "$sweep" "$score")"
  echo "  us_per_prompt_outside_forward: $(awk -v w="$wall" -v f="$fwd" -v n="$n" 'BEGIN { printf "%.1f", (w - f) / n * 1e6 }')  peak_rss_mb: ${rss[$n]}"
done
if [[ -n ${rss[1000000]:-} && -n ${rss[100000]:-} ]]; then
  echo "rss_1000000_vs_100000: $(ratio "${rss[1000000]}" "${rss[100000]}")"
fi
[[ ${KEEP:-0} == 1 ]] && echo "logs: $work" >&2
exit 0
