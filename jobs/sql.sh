#!/usr/bin/env bash
# Run one Spark SQL query (local mode) over the result tables; every table under --output is a view of
# the same name holding every run (runs, scores, responses, rates, judged_rates, judge_agreement, frontier,
# operating_points, roc, calibration, first_tokens, rejects, regressions, judge_checks, judge_check_rejects).
#
#   jobs/sql.sh [--output DIR] [--format table|csv] [--max-rows N] "SELECT …"
#
# Example: jobs/sql.sh "SELECT run_id, status, rows_scored FROM runs ORDER BY started_at"
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=jobs/common.sh
source jobs/common.sh
default_config_args "$@"
build_if_needed
java_main sql "${ARGS[@]}"
