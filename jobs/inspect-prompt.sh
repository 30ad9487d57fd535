#!/usr/bin/env bash
# Show what the model sees for one prompt: the text rendered by its chat template, the token ids (and
# token strings) the tokenizer makes of it, and the ids of the configured control tokens — the first
# thing to check when numbers look wrong.
#
#   jobs/inspect-prompt.sh [--model DIR] [--system TEXT] [--config FILE] [--set KEY=VALUE ...] "prompt"
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=jobs/common.sh
source jobs/common.sh
default_config_args "$@"
build_if_needed
java_main inspect "${ARGS[@]}"
