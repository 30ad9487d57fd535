# Shared by the jobs/*.sh scripts (sourced, from the repository root): builds the project when sources
# changed since the last build, and sets the JVM flags Spark needs on Java 17.

build_if_needed() {
  local stamp=target/.build-stamp
  if [[ ! -f "$stamp" || -n "$(find src pom.xml -newer "$stamp" -print -quit)" ]]; then
    echo "Building (first run or sources changed)..." >&2
    mvn -B -q -DskipTests package dependency:build-classpath \
        -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=compile >&2
    touch "$stamp"
  fi
}

jvm_opts=$(tr '\n' ' ' < jobs/java17-spark.options)
export SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1}

# Sets ARGS to the arguments, with "--config conf/evaluate.yaml" first unless they give a --config.
default_config_args() {
  ARGS=("$@")
  local a
  for a in "$@"; do [[ "$a" == "--config" || "$a" == --config=* ]] && return 0; done
  ARGS=(--config conf/evaluate.yaml "$@")
}

# Runs the job's main class in a local JVM: java_main SUBCOMMAND ARGS...
java_main() {
  local threads=${DJL_THREADS:-1}
  # shellcheck disable=SC2086
  exec java $jvm_opts ${JAVA_OPTS:--Xmx4g} -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$threads" \
    -Dlog4j2.configurationFile=${LOG4J_CONF:-conf/log4j2.properties} \
    -cp "target/classes:$(cat target/classpath.txt)" dev.refusaltokens.eval.job.Main "$@"
}

# Whether the executors are given a libtorch of their own: PYTORCH_FLAVOR or PYTORCH_LIBRARY_PATH in this
# shell, or spark.executorEnv.PYTORCH_FLAVOR / PYTORCH_LIBRARY_PATH in SPARK_SUBMIT_ARGS or in the
# --properties-file it names (conf/examples/gpu-*.conf).
executors_bring_libtorch() {
  [[ -n "${PYTORCH_LIBRARY_PATH:-}" || -n "${PYTORCH_FLAVOR:-}" ]] && return 0
  local args=" ${SPARK_SUBMIT_ARGS:-} " pattern='spark\.executorEnv\.PYTORCH_(FLAVOR|LIBRARY_PATH)'
  grep -Eq "$pattern" <<<"$args" && return 0
  local file
  file=$(sed -nE 's/.*--properties-file[= ]+([^ ]+).*/\1/p' <<<"$args")
  [[ -n "$file" && -f "$file" ]] && grep -Eq "^[[:space:]]*$pattern" "$file"
}
