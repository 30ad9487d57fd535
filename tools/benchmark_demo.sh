#!/usr/bin/env bash
# Benchmark of the demo evaluation: runs jobs/evaluate.sh REPEATS times (default 3) into a temporary
# folder and reports, per run and as medians, the wall time of the whole command and of each stage, and
# the score stage's forward-pass throughput. Usage: tools/benchmark_demo.sh [REPEATS] [evaluate.sh args]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-3}; shift || true
out=$(mktemp -d)
jobs/evaluate.sh --help >/dev/null 2>&1 || true   # build outside the timed runs
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(lscpu | sed -n 's/Model name: *//p')"
for i in $(seq "$repeats"); do
  start=$(date +%s.%N)
  jobs/evaluate.sh --output "$out/w" --run-id "bench-$i" "$@" > "$out/stdout-$i" 2> "$out/log-$i"
  end=$(date +%s.%N)
  wall=$(echo "$end - $start" | bc)
  score=$(sed -n 's/.*Score stage: .* in \([0-9.]*\) s$/\1/p' "$out/log-$i")
  sweep=$(sed -n 's/.*Sweep stage: .* in \([0-9.]*\) s$/\1/p' "$out/log-$i")
  # forward passes: the slowest partition's time bounds the stage; prompts/s over all partitions
  fwd=$(sed -n 's/.*Partition [0-9]*: scored \([0-9]*\) prompts in \([0-9.]*\) s.*/\1 \2/p' "$out/log-$i" \
        | awk 'NR>0 {n+=$1; if ($2>t) t=$2} END {if (t>0) printf "%d %.2f %.0f", n, t, n/t}')
  echo "run $i: wall ${wall}s, score stage ${score}s, sweep stage ${sweep}s, forward passes (prompts, slowest partition s, prompts/s): $fwd"
  echo "$wall $score $sweep" >> "$out/times"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "median of $repeats: wall $(cut -d' ' -f1 "$out/times" | median)s, score stage $(cut -d' ' -f2 "$out/times" | median)s, sweep stage $(cut -d' ' -f3 "$out/times" | median)s"
rm -rf "$out"
