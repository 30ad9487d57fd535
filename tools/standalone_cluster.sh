#!/usr/bin/env bash
# A Spark standalone cluster on this machine (127.0.0.1) from the jars Maven already has: no Spark
# distribution. It makes a SPARK_HOME whose jars/ links Spark's jars (target/classpath.txt without the
# job's own dependencies, which the cluster jar brings), with a RELEASE file (so the launcher takes
# jars/ as the distribution's) and a bin/spark-submit that runs Spark's launcher as the real script
# does; then starts org.apache.spark.deploy.master.Master and Worker JVMs on ephemeral ports, with
# SPARK_SCALA_VERSION=2.13 in the workers' environment (without it a worker cannot launch executors:
# "Cannot find any build directories").
#
#   tools/standalone_cluster.sh start DIR [WORKERS [CORES [MEMORY]]]   # default 1 worker, 2 cores, 2g
#   tools/standalone_cluster.sh stop DIR
#
# start prints the two variables evaluate.sh needs, e.g.
#   export SPARK_HOME=DIR/spark-home SPARK_SUBMIT_ARGS="--master spark://127.0.0.1:PORT ..."
# Logs: DIR/logs/master.log, DIR/logs/worker-N.log; executors' stderr: DIR/work/app-*/ID/stderr.
# Needs target/classpath.txt (run jobs/evaluate.sh once: it builds).
#
# Sourced (source tools/standalone_cluster.sh), it defines the sc_* functions used by
# .ci/spark-submit-check.sh and tools/fault_matrix.sh: sc_start, sc_stop, sc_executor_pids, sc_logs.

SC_JAVA_OPTIONS_FILE=jobs/java17-spark.options
# What the cluster jar carries (DJL, tokenizers, Jinjava, picocli, YAML, JNA): not Spark's.
SC_APP_ONLY='/ai/djl/|/com/hubspot/|/info/picocli/|jackson-dataformat-yaml|/net/java/dev/jna/'

# sc_make_home HOME: SPARK_HOME with jars/ (links), RELEASE, conf/ and bin/spark-submit.
sc_make_home() {
  local home=$1 jar
  mkdir -p "$home/jars" "$home/bin" "$home/conf"
  echo "Spark 4 (jars from the local Maven repository; tools/standalone_cluster.sh)" > "$home/RELEASE"
  tr ':' '\n' < target/classpath.txt | grep -E '\.jar$' | grep -vE "$SC_APP_ONLY" | while read -r jar; do
    ln -sf "$jar" "$home/jars/$(basename "$jar")"
  done
  # What bin/spark-submit → bin/spark-class do: Spark's launcher builds the driver's command (java,
  # classpath $SPARK_HOME/jars/*, --driver-java-options, --driver-memory, Java 17 module flags), and
  # it is executed.
  cat > "$home/bin/spark-submit" <<'EOS'
#!/usr/bin/env bash
export SPARK_HOME="$(cd "$(dirname "$0")/.." && pwd)" SPARK_SCALA_VERSION=2.13
# The launcher prints messages (lines), an empty line, then the command NUL-separated, then spark-class
# appends the launcher's exit code: read as bin/spark-class reads it.
cmd=() delim=$'\n' started=false
while IFS= read -d "$delim" -r arg; do
  if $started; then cmd+=("$arg")
  elif [[ -z $arg ]]; then delim='' started=true
  else echo "$arg"
  fi
done < <(java -Xmx128m -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main org.apache.spark.deploy.SparkSubmit "$@"
         printf '%d\0' $?)
code=${cmd[-1]:-1}
unset 'cmd[-1]'
[[ $code == 0 ]] || exit "$code"
exec "${cmd[@]}"
EOS
  chmod +x "$home/bin/spark-submit"
}

# sc_wait_log FILE REGEX SECONDS PID: waits for a line matching REGEX in FILE while PID lives.
sc_wait_log() {
  local file=$1 regex=$2 seconds=$3 pid=$4 t=0
  while ! grep -qE "$regex" "$file" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "cluster: process $pid exited; last lines of $file:" >&2; tail -20 "$file" >&2; return 1; }
    (( t++ < seconds * 5 )) || { echo "cluster: no '$regex' in $file within $seconds s" >&2; tail -20 "$file" >&2; return 1; }
    sleep 0.2
  done
}

# sc_start DIR [WORKERS [CORES [MEMORY]]]: starts a master and the workers; sets SC_DIR, SC_MASTER_URL,
# SC_PIDS (master first) and exports SPARK_HOME. Returns non-zero (after stopping what it started)
# when the master or a worker does not come up within 60 s.
sc_start() {
  SC_DIR=$1
  local workers=${2:-1} cores=${3:-2} memory=${4:-2g} opts i
  SC_PIDS=()
  mkdir -p "$SC_DIR/logs" "$SC_DIR/work"
  sc_make_home "$SC_DIR/spark-home"
  export SPARK_HOME="$SC_DIR/spark-home"
  opts=$(tr '\n' ' ' < "$SC_JAVA_OPTIONS_FILE")
  # shellcheck disable=SC2086
  SPARK_LOCAL_IP=127.0.0.1 java $opts -Xmx256m -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port 0 --webui-port 0 > "$SC_DIR/logs/master.log" 2>&1 &
  SC_PIDS+=($!)
  sc_wait_log "$SC_DIR/logs/master.log" 'Starting Spark master at spark://' 60 "${SC_PIDS[0]}" || { sc_stop; return 1; }
  SC_MASTER_URL=$(grep -oE 'spark://[0-9.]+:[0-9]+' "$SC_DIR/logs/master.log" | head -1)
  echo "cluster: master $SC_MASTER_URL (pid ${SC_PIDS[0]})"
  for ((i = 1; i <= workers; i++)); do
    # shellcheck disable=SC2086
    SPARK_LOCAL_IP=127.0.0.1 SPARK_SCALA_VERSION=2.13 java $opts -Xmx256m -cp "$SPARK_HOME/jars/*" \
      org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --port 0 --webui-port 0 \
      --cores "$cores" --memory "$memory" --work-dir "$SC_DIR/work" "$SC_MASTER_URL" \
      > "$SC_DIR/logs/worker-$i.log" 2>&1 &
    SC_PIDS+=($!)
  done
  for ((i = 1; i <= workers; i++)); do
    sc_wait_log "$SC_DIR/logs/worker-$i.log" 'Successfully registered with master' 60 "${SC_PIDS[i]}" \
      || { sc_stop; return 1; }
  done
  echo "cluster: $workers worker(s) of $cores core(s), $memory each (pids ${SC_PIDS[*]:1})"
}

# sc_executor_pids: the pids of the executor JVMs (CoarseGrainedExecutorBackend) of this cluster's
# workers: children of the worker JVMs only, never another user's executors.
sc_executor_pids() {
  local w
  for w in "${SC_PIDS[@]:1}"; do
    ps -o pid=,args= --ppid "$w" 2>/dev/null | awk '/CoarseGrainedExecutorBackend/ { print $1 }' || true
  done   # (ps exits 1 when a worker has no children)
}

# sc_stop: kills the executors, the workers and the master started by sc_start (by pid), and waits.
sc_stop() {
  local pids p
  [[ ${#SC_PIDS[@]} -gt 0 ]] || return 0
  pids=$(sc_executor_pids)
  for p in $pids "${SC_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${SC_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
  SC_PIDS=()
}

# sc_logs: the last lines of the master's, workers' and executors' logs (for a failure message).
sc_logs() {
  local f
  for f in "$SC_DIR"/logs/*.log "$SC_DIR"/work/app-*/*/stderr; do
    [[ -f $f ]] || continue
    echo "---- $f (last 15 lines)"
    tail -15 "$f"
  done
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  usage() { sed -n '10,11p' "$0" >&2; exit 2; }
  [[ $# -ge 2 ]] || usage
  dir=$(mkdir -p "$2" && cd "$2" && pwd)
  case $1 in
    start)
      [[ -f target/classpath.txt ]] || { echo "run jobs/evaluate.sh once first (it builds)" >&2; exit 1; }
      [[ ! -f "$dir/pids" ]] || { echo "$dir/pids exists: stop that cluster first" >&2; exit 1; }
      sc_start "$dir" "${3:-1}" "${4:-2}" "${5:-2g}"
      echo "${SC_PIDS[*]}" > "$dir/pids"
      echo "$SC_MASTER_URL" > "$dir/master"
      echo "export SPARK_HOME=$SPARK_HOME SPARK_SUBMIT_ARGS=\"--master $SC_MASTER_URL --executor-memory 1g --executor-cores 1 --conf spark.ui.enabled=false\""
      echo "stop with: tools/standalone_cluster.sh stop $dir"
      ;;
    stop)
      [[ -f "$dir/pids" ]] || { echo "no $dir/pids: nothing started there" >&2; exit 1; }
      read -r -a SC_PIDS < "$dir/pids"
      SC_DIR=$dir
      sc_stop
      rm -f "$dir/pids" "$dir/master"
      echo "cluster in $dir stopped"
      ;;
    *) usage ;;
  esac
fi
