#!/usr/bin/env bash
# Failure probes against the real job (jobs/evaluate.sh, local Spark; one case on a standalone cluster):
# each case provokes one failure and checks what the job promises for it. Prints ONE line per case on
# stdout,
#   ok: <case>: <what happened>       DEFECT: <case>: <what happened>       skip: <case>: <why>
# and exits 0 only when no case printed DEFECT. Logs and tables stay in a temporary folder, named on
# stderr at the end (removed when every case is ok, unless KEEP=1).
#
#   tools/fault_matrix.sh [--fast | --all] [CASE ...]    # --all (default): every case; CASE: a function
#                                                        # name below (e.g. case_bad_inputs_config)
#
# --fast is the set CI runs (a few minutes on a 2-core machine); --all adds the slower ones.
# Environment: FM_RUN_TIMEOUT (s, default 300) bounds every evaluation; FM_CLAIM_WAIT_S (default 90)
# bounds how long a --resume after a killed driver is retried while it exits 2 saying the run id is
# claimed (the dead driver's claim must go stale first); FM_CHECK_CONFIG=1 also compares the recorded
# configs of compared runs (beyond run_id and output); FM_HEARTBEAT_SECONDS (default 2) is passed as
# --set heartbeat_seconds=… where conf/evaluate.yaml has that key, so that a claim goes stale in
# 4 × that. Needs a build (jobs/evaluate.sh builds on first use).
#
# Every case has its own folder under the temporary one; the cases that compare tables compare with one
# clean reference run of the same configuration (made once, copied into each case's output folder as
# run id "clean"). A light configuration (two 250-prompt subsets of the demo benchmarks, a 0.25 grid,
# 100-prompt scoring chunks) keeps each evaluation short.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/fault_lib.sh
source tools/fault_lib.sh

mode=all
only=()
for a in "$@"; do
  case $a in
    --fast) mode=fast ;;
    --all) mode=all ;;
    case_*) only+=("$a") ;;
    *) sed -n '2,20p' "$0" >&2; exit 2 ;;
  esac
done

FM_RUN_TIMEOUT=${FM_RUN_TIMEOUT:-300}
FM_CLAIM_WAIT_S=${FM_CLAIM_WAIT_S:-90}
export JAVA_OPTS=${FM_JAVA_OPTS:--Xmx2g}   # two runs at once in case 1: keep each JVM small
# Every compared run is given the same "${demo[@]}", so their recorded configs differ only in run_id and
# output; FM_CHECK_CONFIG=1 checks that too (one more query per comparison, ~10 s).
export FL_CHECK_CONFIG=${FM_CHECK_CONFIG:-0}
tmp=$(mktemp -d /tmp/fault-matrix.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- shared setup -------------------------------------------------------------------------------

mkdir -p "$tmp/data"
head -n 250 data/coconot/coconot_eval.jsonl > "$tmp/data/refuse.jsonl"
head -n 250 data/coconot/coconot_contrast_eval.jsonl > "$tmp/data/answer.jsonl"
light=(--set scoring.canary_prompts=2 --set sweep.grid.step=0.25
  --set 'report.summary_thresholds=[0.25,0.5,0.75]' --set 'sweep.logit_bias.values=[-2.0,0.0,2.0]'
  --set model.chat_template_time=2026-01-01T00:00:00
  --set 'sweep.rules=[greedy, argmax, threshold]')   # ≤ 3 continuations per prompt in the respond stage
if grep -q '^heartbeat_seconds:' conf/evaluate.yaml; then
  light+=(--set "heartbeat_seconds=${FM_HEARTBEAT_SECONDS:-2}")
fi
# The configuration every compared run uses: 500 prompts in 5 chunks.
demo=("${light[@]}" --set scoring.checkpoint_rows=100 --set "benchmarks=[
  {name: refuse, path: '$tmp/data/refuse.jsonl', should_refuse: true},
  {name: answer, path: '$tmp/data/answer.jsonl', should_refuse: false}]")

results=()
report() {   # report ok|DEFECT|skip CASE WHAT
  local line="$1: $2: $3"
  results+=("$1")
  echo "$line"
}

# start LOG ARGS...: jobs/evaluate.sh in the background (stdout LOG.out, stderr LOG.err); sets pid (the
# driver JVM: evaluate.sh execs it).
start() {
  local log=$1
  shift
  jobs/evaluate.sh "$@" > "$log.out" 2> "$log.err" &
  pid=$!
  pids+=("$pid")
}

# evaluate LOG ARGS...: jobs/evaluate.sh in the foreground, bounded; sets rc.
evaluate() {
  start "$@"
  fl_wait_exit "$pid" "$FM_RUN_TIMEOUT"
  rc=$FL_RC
}

# sql OUT QUERY: one query, CSV rows without the header.
sql() {
  jobs/sql.sh --output "$1" --format csv "$2" 2>>"$tmp/sql.err" | tail -n +2
}

# reference OUT: the clean run of "${demo[@]}" (made once), copied into OUT as run id "clean".
reference() {
  local ref=$tmp/reference t
  if [[ ! -f $ref/done ]]; then
    mkdir -p "$ref"
    evaluate "$ref/run" --output "$ref/out" --run-id clean "${demo[@]}"
    [[ $rc == 0 ]] || { echo "fault matrix: the clean reference run exited $rc ($ref/run.err)" >&2; return 1; }
    touch "$ref/done"
  fi
  for t in "$ref"/out/*/run_id=clean; do
    t=$(dirname "$t")
    mkdir -p "$1/$(basename "$t")"
    cp -r "$t/run_id=clean" "$1/$(basename "$t")/"
  done
}

# resume_until_unclaimed DIR OUT RUN: --resume of RUN, retried while it exits 2 saying the run id is
# claimed (a killed driver's claim until it goes stale), for up to FM_CLAIM_WAIT_S; sets rc and waited.
resume_until_unclaimed() {
  local dir=$1 out=$2 run=$3 t0=$SECONDS n=0
  while :; do
    n=$((n + 1))
    evaluate "$dir/resume-$n" --output "$out" --run-id "$run" --resume "${demo[@]}"
    waited=$((SECONDS - t0))
    [[ $rc == 2 ]] && grep -qi 'claimed' "$dir/resume-$n.err" && (( SECONDS - t0 < FM_CLAIM_WAIT_S )) || break
    sleep 3
  done
  cp "$dir/resume-$n.err" "$dir/resume.err"
  resumes=$n
}

# ---- the cases ----------------------------------------------------------------------------------

# 1. Two runs with the same --run-id at once into one folder: exactly one proceeds and succeeds, the
#    other exits 2 naming the owner of the run id; the survivor's tables equal a clean run's.
case_concurrent_same_run_id() {
  local name="concurrent same-run-id runs" dir=$tmp/concurrent out pa pb ra rb winner loser
  mkdir -p "$dir"
  out=$dir/out
  reference "$out" || { report DEFECT "$name" "no clean reference run"; return; }
  start "$dir/a" --output "$out" --run-id same "${demo[@]}"; pa=$pid
  start "$dir/b" --output "$out" --run-id same "${demo[@]}"; pb=$pid
  fl_wait_exit "$pa" "$FM_RUN_TIMEOUT"; ra=$FL_RC
  fl_wait_exit "$pb" "$FM_RUN_TIMEOUT"; rb=$FL_RC
  if [[ $ra == 0 && $rb == 2 ]]; then winner=a loser=b
  elif [[ $ra == 2 && $rb == 0 ]]; then winner=b loser=a
  else
    local what="exit codes $ra and $rb (expected 0 and 2)"
    [[ $ra == 0 ]] || what+="; a: $(last_error "$dir/a.err")"
    [[ $rb == 0 ]] || what+="; b: $(last_error "$dir/b.err")"
    if [[ $ra == 0 || $rb == 0 ]]; then
      FL_LOG=$dir/compare.log fl_same_tables "$out" clean same || true
      what+="; the tables left: ${FL_WHAT}"
    fi
    report DEFECT "$name" "$what"
    return
  fi
  if ! grep -qi 'run id' "$dir/$loser.err" || ! grep -qiE 'claimed|owner' "$dir/$loser.err"; then
    report DEFECT "$name" "one exited 2 but its stderr does not name the run id's owner: $(grep -v '^\s*at ' "$dir/$loser.err" | tail -1 | cut -c1-160)"
    return
  fi
  if FL_LOG=$dir/compare.log fl_same_tables "$out" clean same; then
    report ok "$name" "one succeeded, the other exited 2 ($(grep -oiE "run id[^:]*: [^;(]*" "$dir/$loser.err" | head -1 | cut -c1-120)); $FL_WHAT"
  else
    report DEFECT "$name" "one succeeded, the other exited 2, but $FL_WHAT"
  fi
}

# kill_driver_then_resume CASE DIR WAIT_REGEX_WHAT: the shared body of cases 2 and 3. Starts the demo
# run, waits for its stage (score: the first scoring chunk committed; sweep: the score stage's end),
# kill -9s the driver, resumes (retrying while the stale claim is not yet stale), compares.
kill_driver_then_resume() {
  local name=$1 dir=$2 stage=$3 out=$2/out run=killed
  mkdir -p "$dir"
  reference "$out" || { report DEFECT "$name" "no clean reference run"; return; }
  start "$dir/run" --output "$out" --run-id "$run" "${demo[@]}"
  local driver=$pid hit
  if [[ $stage == score ]]; then
    fl_wait_grep "$out/scores/run_id=$run/*.parquet" . "$FM_RUN_TIMEOUT" "$driver" 2>>"$dir/probe.err" \
      || { report DEFECT "$name" "probe: no scoring chunk was committed (the run exited first?): $(tail -1 "$dir/probe.err")"; return; }
    kill -9 "$driver"
    hit=$(grep -q 'EvaluationJob: Score stage:' "$dir/run.err" && echo late || echo ok)
    [[ $hit == ok ]] || { report DEFECT "$name" "probe missed: the score stage had ended before the kill"; return; }
    hit="killed after $(ls "$out/scores/run_id=$run/"*.parquet | wc -l) committed scoring file(s)"
  elif [[ $stage == respond ]]; then
    fl_wait_grep "$out/responses/run_id=$run/*.parquet" . "$FM_RUN_TIMEOUT" "$driver" 2>>"$dir/probe.err" \
      || { report DEFECT "$name" "probe: no chunk of responses was committed (the run exited first?): $(tail -1 "$dir/probe.err")"; return; }
    kill -9 "$driver"
    grep -q 'EvaluationJob: Respond stage: [0-9]* responses in' "$dir/run.err" \
      && { report DEFECT "$name" "probe missed: the respond stage had ended before the kill"; return; }
    hit="killed after $(ls "$out/responses/run_id=$run/"*.parquet | wc -l) committed file(s) of responses"
  else
    # logged once the scored runs row is written: the kill falls in the sweep itself
    fl_wait_grep "$dir/run.err" 'EvaluationJob: Sweep stage: run' "$FM_RUN_TIMEOUT" "$driver" 2>>"$dir/probe.err" \
      || { report DEFECT "$name" "probe: the sweep never started (the run exited first?)"; return; }
    kill -9 "$driver"
    grep -q 'SweepStage: Sweep stage: tables' "$dir/run.err" \
      && { report DEFECT "$name" "probe missed: the sweep had ended before the kill"; return; }
    hit="killed in the sweep"
  fi
  wait "$driver" 2>/dev/null || true
  resume_until_unclaimed "$dir" "$out" "$run"
  if [[ $rc != 0 ]]; then
    report DEFECT "$name" "$hit; --resume exited $rc after ${waited} s ($resumes attempt(s)): $(grep -v '^\s*at ' "$dir/resume.err" | grep -iE 'error|claimed|exception' | tail -1 | cut -c1-200)"
    return
  fi
  local how="$hit; --resume succeeded after ${waited} s ($resumes attempt(s))"
  if FL_LOG=$dir/compare.log fl_same_tables "$out" clean "$run"; then
    report ok "$name" "$how; $FL_WHAT"
  else
    report DEFECT "$name" "$how, but $FL_WHAT"
  fi
}

# 2. kill -9 of the driver during the score stage, then --resume: the tables equal a clean run's.
case_kill_driver_during_score() {
  kill_driver_then_resume "kill driver during score, then --resume" "$tmp/kill-score" score
}

# 3. kill -9 of the driver during the sweep, then --resume: the tables equal a clean run's.
case_kill_driver_during_sweep() {
  kill_driver_then_resume "kill driver during sweep, then --resume" "$tmp/kill-sweep" sweep
}

# 4. kill -9 of the driver during the respond stage (after its first committed chunk of responses),
#    then --resume: the committed responses are kept, the rest generated, every table equals a clean run's.
case_kill_during_respond() {
  kill_driver_then_resume "kill driver during respond, then --resume" "$tmp/kill-respond" respond
}

# 5. kill -9 of an executor JVM during the score stage on a standalone cluster (two executors): the
#    run succeeds and its tables equal a clean run's (CI step 5, .ci/spark-submit-check.sh).
case_kill_executor_on_cluster() {
  local name="kill executor on a standalone cluster" dir=$tmp/cluster
  mkdir -p "$dir"
  if timeout -k 10 600 .ci/spark-submit-check.sh > "$dir/check.log" 2>&1; then
    report ok "$name" "$(grep 'executor killed:' "$dir/check.log" | sed 's/^spark-submit check: executor killed: //')"
  else
    report DEFECT "$name" "$(grep -E 'FAILED' "$dir/check.log" | tail -1 | sed 's/^spark-submit check: //' | cut -c1-200) ($dir/check.log)"
  fi
}

# One benchmark of the demo model over FILE (format from its extension): bench_run DIR FILE [SET...];
# sets rc; the run id is "bench", the output DIR/out.
bench_run() {
  local dir=$1 file=$2
  shift 2
  mkdir -p "$dir"
  evaluate "$dir/run" --output "$dir/out" --run-id bench "${light[@]}" \
    --set "benchmarks=[{name: probe, path: '$file', should_refuse: true}]" "$@"
}

# the error a run printed, one line: a configuration error, else the root cause (the last "Caused by"),
# else the "Run failed" line, else the last line that mentions an error
last_error() {
  { grep -m1 '^Configuration error' "$1" || grep '^Caused by' "$1" | tail -1 | grep . || grep -m1 '^Run failed' "$1" \
      || grep -v '^\s*at ' "$1" | grep -iE 'error|exception|failed' | tail -1; } | tr '\t' ' ' | cut -c1-200
}

# 6a. a CSV whose last field opens a quote it never closes: q1 scored, q2 a malformed_csv reject.
case_bad_csv_unterminated_quote() {
  local name="bad input: CSV with an unterminated quote" dir=$tmp/csv-quote r
  mkdir -p "$dir"
  printf 'id,prompt\nq1,ok\nq2,"unterminated\n' > "$dir/in.csv"
  bench_run "$dir" "$dir/in.csv"
  [[ $rc == 0 ]] || { report DEFECT "$name" "the run exited $rc: $(last_error "$dir/run.err")"; return; }
  r=$(sql "$dir/out" "SELECT
      (SELECT count(*) FROM scores WHERE run_id = 'bench' AND prompt_id = 'q1'),
      (SELECT count(*) FROM rejects WHERE run_id = 'bench' AND reason = 'malformed_csv'
         AND (prompt_id = 'q2' OR raw LIKE 'q2,%')),
      (SELECT concat_ws(' ', collect_list(concat(coalesce(prompt_id, '?'), '=', reason))) FROM rejects
         WHERE run_id = 'bench')")
  if [[ $r == 1,1,* ]]; then report ok "$name" "q1 scored, q2 rejected as malformed_csv"
  else report DEFECT "$name" "scored q1 / malformed_csv q2 / rejects: $r (expected 1,1)"; fi
}

# 6b. a CSV field holding a quoted line break: one record, scored.
case_bad_csv_quoted_newline() {
  local name="bad input: CSV with a quoted line break" dir=$tmp/csv-newline r
  mkdir -p "$dir"
  printf 'id,prompt\nm1,"first line\nsecond line"\n' > "$dir/in.csv"
  bench_run "$dir" "$dir/in.csv"
  [[ $rc == 0 ]] || { report DEFECT "$name" "the run exited $rc: $(last_error "$dir/run.err")"; return; }
  r=$(sql "$dir/out" "SELECT
      (SELECT count(*) FROM scores WHERE run_id = 'bench'),
      (SELECT count(*) FROM scores WHERE run_id = 'bench' AND prompt_id = 'm1'
         AND prompt = 'first line' || char(10) || 'second line'),
      (SELECT count(*) FROM rejects WHERE run_id = 'bench')")
  if [[ $r == 1,1,0 ]]; then report ok "$name" "one record (m1, both lines) scored, no reject"
  else report DEFECT "$name" "scores / m1 with both lines / rejects: $r (expected 1,1,0)"; fi
}

# 6c. a JSONL prompt of only U+3000 (ideographic space): an empty_prompt reject.
case_bad_jsonl_ideographic_space() {
  local name="bad input: JSONL prompt of only U+3000" dir=$tmp/jsonl-space r
  mkdir -p "$dir"
  printf '{"id": "ok1", "prompt": "hello there"}\n{"id": "w1", "prompt": "\xe3\x80\x80"}\n' > "$dir/in.jsonl"
  bench_run "$dir" "$dir/in.jsonl"
  [[ $rc == 0 ]] || { report DEFECT "$name" "the run exited $rc: $(last_error "$dir/run.err")"; return; }
  r=$(sql "$dir/out" "SELECT
      (SELECT count(*) FROM scores WHERE run_id = 'bench' AND prompt_id = 'ok1'),
      (SELECT coalesce(max(reason), 'none') FROM rejects WHERE run_id = 'bench' AND prompt_id = 'w1')")
  if [[ $r == 1,empty_prompt ]]; then report ok "$name" "rejected as empty_prompt, the other line scored"
  else report DEFECT "$name" "ok1 scored / w1's reject reason: $r (expected 1,empty_prompt)"; fi
}

# 6d. a JSONL line whose id is an array: a reject that says what is wrong (not "no non-empty").
case_bad_jsonl_array_id() {
  local name="bad input: JSONL id [1]" dir=$tmp/jsonl-array-id r
  mkdir -p "$dir"
  printf '{"id": "ok1", "prompt": "hello there"}\n{"id": [1], "prompt": "an array id"}\n' > "$dir/in.jsonl"
  bench_run "$dir" "$dir/in.jsonl"
  [[ $rc == 0 ]] || { report DEFECT "$name" "the run exited $rc: $(last_error "$dir/run.err")"; return; }
  r=$(sql "$dir/out" "SELECT reason, detail FROM rejects WHERE run_id = 'bench' AND raw LIKE '%an array id%'")
  if [[ -z $r ]]; then report DEFECT "$name" "no reject for the line"
  elif grep -qi 'no non-empty' <<<"$r"; then report DEFECT "$name" "rejected with a misleading detail: $r"
  else report ok "$name" "rejected: $r"; fi
}

# 6e. a prompt holding the literal text of the respond token: scored, and the scores table's
#     special-tokens column lists it.
case_prompt_with_control_token() {
  local name="bad input: prompt containing [respond]" dir=$tmp/respond-text r
  mkdir -p "$dir"
  printf '{"id": "r1", "prompt": "please [respond] now"}\n' > "$dir/in.jsonl"
  bench_run "$dir" "$dir/in.jsonl"
  [[ $rc == 0 ]] || { report DEFECT "$name" "the run exited $rc: $(last_error "$dir/run.err")"; return; }
  r=$(sql "$dir/out" "SELECT to_json(struct(*)) FROM scores WHERE run_id = 'bench' AND prompt_id = 'r1'")
  [[ -n $r ]] || { report DEFECT "$name" "r1 is not in scores"; return; }
  # CSV quoting doubles the JSON's quotes; the first special-named key and its value
  r=$(/usr/bin/python3 -c '
import csv, json, sys
row = json.loads(next(csv.reader([sys.stdin.read()]))[0])
keys = [k for k in row if "special" in k.lower()]
print("NONE" if not keys else keys[0] + "=" + json.dumps(row[keys[0]]))' <<<"$r")
  if [[ $r == NONE ]]; then report DEFECT "$name" "scored, but scores has no column whose name contains 'special'"
  elif [[ $r == *'[respond]'* ]]; then report ok "$name" "scored; $r"
  else report DEFECT "$name" "scored, but ${r%%=*} does not list [respond]: ${r#*=}"; fi
}

# 6f/6g. configuration mistakes: an unwritable --output, a misspelt benchmark key. Each must stop
#        with exit 2 and a message naming it, without a long Java stack trace.
case_bad_inputs_config() {
  local name="bad input: --output is not writable" dir=$tmp/config-errors n
  mkdir -p "$dir"
  : > "$dir/a-regular-file"
  evaluate "$dir/unwritable" --output "$dir/a-regular-file/tables" --run-id bench "${light[@]}"
  cat "$dir/unwritable.out" "$dir/unwritable.err" > "$dir/unwritable.all"
  n=$(fl_stack_lines "$dir/unwritable.all")
  if [[ $rc == 2 ]] && grep -qiw 'output' "$dir/unwritable.all" && (( n <= 20 )); then
    report ok "$name" "exit 2: $(grep -iw output "$dir/unwritable.all" | head -1 | cut -c1-160)"
  else
    report DEFECT "$name" "exit $rc (expected 2), $n stack-frame lines, output named: $(grep -qiw output "$dir/unwritable.all" && echo yes || echo no); $(last_error "$dir/unwritable.all")"
  fi

  name="bad input: benchmark YAML with shuold_refuse"
  printf 'name: typo\npath: %s\nshuold_refuse: true\n' "$tmp/data/refuse.jsonl" > "$dir/typo.yaml"
  evaluate "$dir/typo" --output "$dir/out" --run-id typo "${light[@]}" --set "benchmarks=['$dir/typo.yaml']"
  cat "$dir/typo.out" "$dir/typo.err" > "$dir/typo.all"
  if [[ $rc == 2 ]] && grep -q 'shuold_refuse' "$dir/typo.all"; then
    report ok "$name" "exit 2: $(grep shuold_refuse "$dir/typo.all" | head -1 | cut -c1-160)"
  else
    report DEFECT "$name" "exit $rc (expected 2), shuold_refuse named: $(grep -q shuold_refuse "$dir/typo.all" && echo yes || echo no)"
  fi
}

# 7. a failure inside an executor task (FaultInjection's one-task failure; local mode retries no
#    task): the run exits 1 and runs says failed, with the error, not running.
case_executor_task_failure() {
  local name="executor-side task failure" dir=$tmp/task-failure r
  mkdir -p "$dir"
  JAVA_OPTS="$JAVA_OPTS -Drefusal_eval.fault.fail_one_task=$dir/marker" \
    bench_run "$dir" "$tmp/data/refuse.jsonl" --set scoring.window_rows=50
  [[ -f $dir/marker ]] || { report DEFECT "$name" "probe: the injected fault did not fire (exit $rc)"; return; }
  r=$(sql "$dir/out" "SELECT status, error IS NOT NULL, substr(regexp_replace(coalesce(error, ''), '\\\\s+', ' '), 1, 100)
      FROM runs WHERE run_id = 'bench'")
  if [[ $rc == 1 && $r == failed,true,* ]]; then report ok "$name" "exit 1; runs.status failed, error: ${r#failed,true,}"
  else report DEFECT "$name" "exit $rc (expected 1); runs status,has_error,error: ${r:-no runs row}"; fi
}

# ---- the matrix -----------------------------------------------------------------------------------

fast_cases=(case_bad_inputs_config case_executor_task_failure case_concurrent_same_run_id
  case_kill_driver_during_score case_kill_during_respond)
all_cases=(case_concurrent_same_run_id case_kill_driver_during_score case_kill_driver_during_sweep
  case_kill_during_respond case_kill_executor_on_cluster case_bad_csv_unterminated_quote
  case_bad_csv_quoted_newline case_bad_jsonl_ideographic_space case_bad_jsonl_array_id
  case_prompt_with_control_token case_bad_inputs_config case_executor_task_failure)
if [[ ${#only[@]} -gt 0 ]]; then cases=("${only[@]}")
elif [[ $mode == fast ]]; then cases=("${fast_cases[@]}")
else cases=("${all_cases[@]}"); fi

t0=$SECONDS
for c in "${cases[@]}"; do
  declare -F "$c" >/dev/null || { echo "fault matrix: no case $c" >&2; exit 2; }
  tc=$SECONDS
  "$c"
  echo "fault matrix: $c took $((SECONDS - tc)) s" >&2
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done   # nothing of a case outlives it
  pids=()
done
defects=0
for r in "${results[@]}"; do [[ $r == DEFECT ]] && defects=$((defects + 1)); done
echo "fault matrix ($mode): ${#results[@]} line(s), $defects DEFECT, $((SECONDS - t0)) s; logs: $tmp" >&2
if [[ $defects == 0 && ${KEEP:-0} != 1 ]]; then rm -rf "$tmp"; fi
[[ $defects == 0 ]]
