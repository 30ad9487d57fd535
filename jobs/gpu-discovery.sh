#!/usr/bin/env bash
# Spark GPU discovery script: prints this node's GPUs as {"name":"gpu","addresses":["0","1",...]}.
# Use with spark.executor.resource.gpu.discoveryScript (or spark.worker.resource.gpu.discoveryScript).
set -euo pipefail
if command -v nvidia-smi >/dev/null 2>&1; then
  ids=$(nvidia-smi --query-gpu=index --format=csv,noheader | tr -d ' ' | paste -sd, - | sed 's/,/","/g')
else
  ids=""
fi
if [[ -z "$ids" ]]; then
  echo '{"name":"gpu","addresses":[]}'
else
  echo "{\"name\":\"gpu\",\"addresses\":[\"$ids\"]}"
fi
