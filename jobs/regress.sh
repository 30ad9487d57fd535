#!/usr/bin/env bash
# Compare a candidate run with a baseline run of the same benchmarks: did refusal behaviour regress?
#
#   jobs/regress.sh [--output DIR] [--baseline RUN_ID] [--candidate RUN_ID] [--config FILE] [--set KEY=VALUE ...]
#
# Defaults: --candidate = the latest succeeded run in --output; --baseline = the latest succeeded run
# before it on the same benchmarks. Tolerances, alpha and the compared operating points come from the
# config's regress section (conf/evaluate.yaml). Writes the regressions table and
# <output>/reports/run_id=<candidate>/regress.txt, and prints the verdict.
# Exit code: 0 no regression, 3 regression, 4 the runs could not be compared (missing or unfinished run,
# different control tokens or temperatures), 2 bad configuration or usage, 1 failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=jobs/common.sh
source jobs/common.sh
default_config_args "$@"
build_if_needed
java_main regress "${ARGS[@]}"
