#!/usr/bin/env bash
# Example scheduled step (cron, Airflow, CI): evaluate a checkpoint, then compare it with the previous
# succeeded run on the same benchmarks. The exit code is the scheduler's signal:
#   0 no regression, 3 regression, 4 no baseline to compare with (e.g. the first night), other: failure.
#
#   jobs/nightly.sh MODEL_DIR [OUTPUT_DIR]
#
# Crontab example (02:00 every night):
#   0 2 * * *  cd /path/to/refusal-eval && jobs/nightly.sh /models/latest-checkpoint /data/refusal-eval
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: jobs/nightly.sh MODEL_DIR [OUTPUT_DIR]}
output=${2:-warehouse}
run_id="nightly-$(date -u +%Y%m%d-%H%M%S)"

jobs/evaluate.sh --model "$model" --output "$output" --run-id "$run_id"
set +e
jobs/regress.sh --output "$output" --candidate "$run_id"
code=$?
set -e
case $code in
  0) echo "nightly: $run_id shows no regression" ;;
  3) echo "nightly: $run_id REGRESSED; see $output/reports/run_id=$run_id/regress.txt" >&2 ;;
  4) echo "nightly: $run_id could not be compared (first run, or no comparable baseline)" >&2 ;;
esac
exit $code
