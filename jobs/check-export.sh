#!/usr/bin/env bash
# Check an exported model folder on the Java side: the chat template must render the prompts of its
# expected_logprobs.json (written by tools/export_torchscript.py) as Python did, the tokenizer must give
# the same ids, and the TorchScript file the same first-token log-probabilities; when the folder has an
# expected_continuations.json, the job's greedy generator must give its continuations token for token (on the
# recompute path, and the KV-cache path when there is a decode.pt). Exit 0 when all agree.
#
#   jobs/check-export.sh --model DIR [--device cpu|gpu0] [--set model.refusal_tokens=[...]]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=jobs/common.sh
source jobs/common.sh
default_config_args "$@"
build_if_needed
java_main check-export "${ARGS[@]}"
