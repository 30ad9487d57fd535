#!/usr/bin/env bash
# CI step 5: jobs/evaluate.sh through its spark-submit branch on a real Spark standalone cluster on
# this machine (tools/standalone_cluster.sh: a master and one worker on 127.0.0.1, from the jars Maven
# has; no Spark distribution), two executor JVMs of one core and 1 GiB each. The cluster jar must bring
# everything but Spark (DJL engine discovery through merged META-INF/services, tokenizers, Jinjava,
# picocli) and libtorch comes through evaluate.sh's --jars.
#   1. a clean run: exit 0, every table written, both executors registered;
#   2. the same run again, with one executor JVM killed (kill -9) while it runs its first scoring
#      task: the run must succeed (Spark re-runs the lost work on the other executor and the
#      replacement the worker starts) and its tables must equal the clean run's (tools/compare_runs.sh).
# A light sweep (grid step 0.25) keeps it to a few minutes; the scoring is the demo's. Every JVM it
# starts is stopped on exit. Exits non-zero on any deviation.
#
#   .ci/spark-submit-check.sh            # KEEP=1 keeps the temporary folder (logs) and prints it
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f target/classpath.txt ]] || { echo "run jobs/evaluate.sh once first (it builds)" >&2; exit 1; }
# shellcheck source=tools/standalone_cluster.sh
source tools/standalone_cluster.sh
# shellcheck source=tools/fault_lib.sh
source tools/fault_lib.sh

tmp=$(mktemp -d /tmp/spark-submit-check.XXXXXX)
driver=""
cleanup() {
  local rc=$?
  [[ -z $driver ]] || kill -9 "$driver" 2>/dev/null || true
  sc_stop
  if [[ ${KEEP:-0} == 1 || $rc != 0 ]]; then echo "spark-submit check: logs kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
fail() {
  echo "spark-submit check: FAILED: $*" >&2
  sc_logs >&2 || true
  exit 1
}
start=$SECONDS
out=$tmp/warehouse
# Light sweep, pinned chat-template time (so the two runs' configs differ in run_id only), four
# scoring chunks (the kill lands in the first).
run_args=(--set scoring.canary_prompts=2 --set scoring.checkpoint_rows=400
  --set sweep.grid.step=0.25 --set 'report.summary_thresholds=[0.25,0.5,0.75]'
  --set 'sweep.logit_bias.values=[-2.0,0.0,2.0]' --set model.chat_template_time=2026-01-01T00:00:00
  --set 'sweep.rules=[greedy, argmax, threshold]')   # ≤ 3 continuations per prompt in the respond stage
tables=(runs scores rates frontier operating_points roc calibration first_tokens rejects)

sc_start "$tmp/cluster" 1 2 2g || fail "the standalone cluster did not start"
export SPARK_SUBMIT_ARGS="--master $SC_MASTER_URL --executor-memory 1g --executor-cores 1 --total-executor-cores 2 --conf spark.ui.enabled=false"

# submit RUN_ID LOG: starts the run in the background; sets driver (its pid: evaluate.sh and the
# stand-in spark-submit exec the driver JVM) and app (the worker's folder of the new application).
submit() {
  local before
  before=$(ls "$SC_DIR/work")
  jobs/evaluate.sh --output "$out" --run-id "$1" "${run_args[@]}" > "$2" 2>&1 &
  driver=$!
  app=""
  for _ in $(seq 300); do
    app=$(ls "$SC_DIR/work" | grep -vxF "$before" | head -1 || true)
    [[ -n $app ]] && { app=$SC_DIR/work/$app; return 0; }
    kill -0 "$driver" 2>/dev/null || return 0
    sleep 0.2
  done
}

# 1. clean run
t=$SECONDS
submit ci-submit "$tmp/clean.log"
fl_wait_exit "$driver" 300
driver=""
[[ $FL_RC == 0 ]] || { tail -30 "$tmp/clean.log" >&2; fail "clean run exited $FL_RC (log above)"; }
for table in "${tables[@]}"; do
  ls "$out/$table/run_id=ci-submit/"*.parquet >/dev/null 2>&1 || fail "clean run: no $table table"
done
registered=$(grep -l 'Successfully registered with driver' "$app"/*/stderr 2>/dev/null | wc -l)
scoring=$(grep -l 'ModelCache: Loading' "$app"/*/stderr 2>/dev/null | wc -l)
[[ $registered -ge 2 ]] || fail "clean run: $registered executor(s) registered, expected 2"
echo "spark-submit check: clean run on $registered executors ($scoring of them scored) in $((SECONDS - t)) s"

# 2. the same run, one executor killed during its first scoring task
t=$SECONDS
submit ci-submit-kill "$tmp/kill.log"
[[ -n $app ]] || fail "kill run: no application folder under $SC_DIR/work"
fl_wait_grep "$app/*/stderr" 'ModelCache: Loading' 240 "$driver" \
  || { tail -30 "$tmp/kill.log" >&2; fail "kill run: no executor started scoring"; }
victim_log=$(grep -l 'ModelCache: Loading' "$app"/*/stderr | head -1)
victim=$(grep -oE 'process name: [0-9]+' "$victim_log" | grep -oE '[0-9]+$' | head -1)
grep -qxF "$victim" <(sc_executor_pids) || fail "kill run: executor pid '$victim' is not one of this cluster's"
grep -q 'EvaluationJob: Score stage:' "$tmp/kill.log" && fail "kill run: the score stage ended before the kill"
kill -9 "$victim"
echo "spark-submit check: killed executor $(basename "$(dirname "$victim_log")") (pid $victim) during its first scoring task"
fl_wait_exit "$driver" 300
driver=""
[[ $FL_RC == 0 ]] || { tail -30 "$tmp/kill.log" >&2; fail "run with a killed executor exited $FL_RC (log above)"; }
lost=$(grep -cE 'Lost (task|executor)' "$tmp/kill.log" || true)
[[ $lost -gt 0 ]] || fail "kill run: the driver logged no lost task or executor: the kill did not hit the job"
FL_LOG=$tmp/compare.log FL_CHECK_CONFIG=0   # both runs were given run_args
fl_same_tables "$out" ci-submit ci-submit-kill || { cat "$tmp/compare.log" >&2; fail "kill run: $FL_WHAT"; }
echo "spark-submit check: executor killed: run succeeded ($lost lost-task/executor lines; $(ls "$app" | wc -l) executors in all); $FL_WHAT in $((SECONDS - t)) s"
echo "spark-submit path on a standalone cluster: OK ($((SECONDS - start)) s)"
