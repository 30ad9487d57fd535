#!/usr/bin/env bash
# Evaluate a refusal-token model: score every prompt once, sweep every rule and threshold, write tables.
#
#   jobs/evaluate.sh [--config FILE] [--output DIR] [--run-id ID] [--model DIR] [--set KEY=VALUE ...]
#
# Without SPARK_HOME: local Spark inside one JVM; needs only Java 17 and Maven (builds on first use).
# With SPARK_HOME: the same job through $SPARK_HOME/bin/spark-submit (SPARK_SUBMIT_ARGS adds options
# such as "--master yarn --num-executors 4").
# Other subcommands: REFUSAL_EVAL_COMMAND=score|respond|sweep (default run).
set -euo pipefail
cd "$(dirname "$0")/.."

command=${REFUSAL_EVAL_COMMAND:-run}

# shellcheck source=jobs/common.sh
source jobs/common.sh
default_config_args "$@"
args=("${ARGS[@]}")
build_if_needed

if [[ -n "${SPARK_HOME:-}" ]]; then
  jar=$(ls target/refusal-eval-*-cluster.jar)
  extra=()
  # The cluster jar carries no libtorch. Unless the executors get one of their own, ship the CPU build
  # (on the classpath it would win over PYTORCH_FLAVOR: DJL downloads a flavor only when none is bundled).
  if ! executors_bring_libtorch; then
    extra+=(--jars "$(tr ':' '\n' < target/classpath.txt | grep pytorch-native-cpu)")
  fi
  # shellcheck disable=SC2086
  # --driver-java-options is spark.driver.extraJavaOptions: give every driver flag in this one place.
  exec "$SPARK_HOME/bin/spark-submit" --class dev.refusaltokens.eval.job.Main \
    --driver-java-options "$jvm_opts -Dai.djl.offline=true -Dlog4j2.configurationFile=conf/log4j2.properties" \
    --conf "spark.executor.extraJavaOptions=$jvm_opts -Dai.djl.offline=true" \
    ${SPARK_SUBMIT_ARGS:-} "${extra[@]}" "$jar" "$command" "${args[@]}"
fi

java_main "$command" "${args[@]}"
