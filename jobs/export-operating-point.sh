#!/usr/bin/env bash
# Export one operating point of an evaluated run for serving: the setting (per-token thresholds, or logit
# biases), the vocabulary ids, the model's hashes and the rates the job measured at that point.
#
#   jobs/export-operating-point.sh [--output DIR] --run-id RUN_ID --name NAME [--rule threshold|logit_bias]
#       [--temperature T] [--model DIR] [--allow-infeasible] [--with-decisions] --to FOLDER
#
# Writes into FOLDER: operating_point.json; openai_request.json for a logit_bias point (the request
# fragment for an OpenAI-compatible server); decisions.jsonl with --with-decisions (each scored prompt's
# input ids and the first token the job decided). --rule defaults to threshold; --temperature is needed
# when the point was found at several temperatures; --model (default: the run's model folder) must hash as
# the run recorded. Files are written to temporary files and moved into place: nothing half written.
# Exit code: 0 written, 2 bad usage (unknown run, name, rule or temperature, an infeasible point without
# --allow-infeasible, a model folder that is not the run's, a logit bias beyond ±100), 1 failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=jobs/common.sh
source jobs/common.sh
default_config_args "$@"
build_if_needed
java_main export-operating-point "${ARGS[@]}"
