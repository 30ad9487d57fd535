#!/usr/bin/env bash
# Measure the configured judges against a labelled file of responses: per judge, the confusion matrix
# (human label x judge label), accuracy and Cohen's kappa, overall and per category, printed and written
# to the tables judge_checks and judge_check_rejects (docs/judges.md). Exit 0 when rows were judged.
#
#   jobs/judge-check.sh [--config FILE] [--file FILE] [--output DIR] [--run-id ID] [--set KEY=VALUE ...]
#
# Default config: conf/judge-check.yaml (the shipped labelled set, data/judge-check/).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=jobs/common.sh
source jobs/common.sh
ARGS=("$@")
has_config=false
for a in "$@"; do [[ "$a" == "--config" || "$a" == --config=* ]] && has_config=true; done
$has_config || ARGS=(--config conf/judge-check.yaml "$@")
build_if_needed
java_main judge-check "${ARGS[@]}"
