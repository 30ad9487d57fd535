#!/usr/bin/env bash
# Performance benchmark (not a test): raw forward throughput, the score stage in Spark and its ratio to
# the raw forward, padding efficiency, sweep times, 10x scaling, local[2] vs local[1], peak memory, and the
# raw decode loop of greedy continuations (tokens/s, KV cache vs recompute).
# Prints one "key: value" line per figure (medians of --repeats runs) and writes them to --results.
#
#   jobs/benchmark.sh [--model DIR] [--config FILE] [--repeats N] [--scale N] [--slots N]
#                     [--results FILE] [--set KEY=VALUE ...]
#
# Defaults: conf/evaluate.yaml (demo model, CoCoNot), 3 repeats, 10x synthetic prompts, local[2],
# target/benchmark/results.txt. Takes about 2.5 minutes on 2 cores with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=jobs/common.sh
source jobs/common.sh
default_config_args "$@"
build_if_needed
java_main benchmark "${ARGS[@]}"
