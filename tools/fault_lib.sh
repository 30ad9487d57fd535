#!/usr/bin/env bash
# Shared by .ci/spark-submit-check.sh and tools/fault_matrix.sh (sourced, from the repository root):
# waiting for a job's log lines, killing a driver or an executor, and comparing a run's tables with a
# clean run's. Every function returns non-zero instead of exiting, and prints why on stderr.

# The runs columns that may differ between a clean run and one that met a fault: compare_runs.sh already
# leaves out started_at, ended_at (and heartbeat_at, where it exists) and git_commit. padding_efficiency
# is a performance figure (an accumulator: a retried task counts twice, docs/tables.md). config holds
# the run id and the output folder: fl_same_tables compares it separately, with those two taken out.
# canary_max_abs_diff is a sample's figure: a run killed during scoring loses its first attempt's canary,
# and the resumed attempt re-scores prompts of another chunk (docs/tables.md).
FL_IGNORE=${FL_IGNORE:-config,padding_efficiency,canary_max_abs_diff}

# fl_wait_grep FILE REGEX SECONDS [PID]: waits until a line of FILE (a glob is allowed) matches REGEX;
# fails after SECONDS, or as soon as PID (if given) has exited.
fl_wait_grep() {
  local file=$1 regex=$2 seconds=$3 pid=${4:-} end=$((SECONDS + $3))
  # shellcheck disable=SC2086
  until grep -qE "$regex" $file 2>/dev/null; do
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      echo "process $pid exited before '$regex' appeared in $file" >&2
      return 1
    fi
    (( SECONDS < end )) || { echo "no '$regex' in $file within $seconds s" >&2; return 1; }
    sleep 0.2
  done
}

# fl_wait_exit PID SECONDS: waits for a background child; sets FL_RC to its exit status (124 when it
# had to be killed after SECONDS).
fl_wait_exit() {
  local pid=$1 end=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < end )); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    FL_RC=124
    return 0
  fi
  FL_RC=0
  wait "$pid" || FL_RC=$?
}

# fl_same_tables OUT A B: 0 when every table of run B equals run A's (tools/compare_runs.sh, ignoring
# $FL_IGNORE in runs) and their recorded configs differ only in run_id and output (a second query, skipped with
# FL_CHECK_CONFIG=0 where both runs were given the same arguments by the caller); prints compare_runs.sh's
# table to FL_LOG (default stderr) and a one-line verdict in FL_WHAT.
fl_same_tables() {
  local out=$1 a=$2 b=$3 log=${FL_LOG:-/dev/stderr} cmp rc=0 configs
  cmp=$(tools/compare_runs.sh --output "$out" --ignore "$FL_IGNORE" "$a" "$b" 2>>"$log") || rc=$?
  echo "$cmp" >> "$log"
  if [[ $rc != 0 ]]; then
    FL_WHAT="tables differ from the clean run's: $(awk -F, 'NR > 1 && NF == 5 && ($2 != $3 || $4 != 0 || $5 != 0) { printf "%s%s (%s vs %s rows, %s unmatched)", sep, $1, $2, $3, $4; sep = ", " }' <<<"$cmp")"
    [[ $cmp == *DIFFERENT* || $cmp == *IDENTICAL* ]] || { FL_WHAT="compare_runs.sh failed (exit $rc, see $log)"; return 1; }
    if grep -qE '^scores,' <<<"$cmp" && ! grep -qE '^scores,([0-9]+),\1,0,0$' <<<"$cmp"; then
      FL_WHAT+="; $(fl_scores_diff "$out" "$a" "$b" 2>>"$log")"
    fi
    return 1
  fi
  if [[ ${FL_CHECK_CONFIG:-1} != 1 ]]; then FL_WHAT="every table equals the clean run's"; return 0; fi
  configs=$(jobs/sql.sh --output "$out" --format csv \
    "SELECT count(DISTINCT regexp_replace(config, '(run_id|output): \"[^\"]*\"', '')) AS n FROM runs
     WHERE run_id IN ('$a', '$b')" 2>>"$log" | tail -1)
  if [[ $configs != 1 ]]; then
    FL_WHAT="tables equal, but the recorded configs differ beyond run_id and output ($configs distinct)"
    return 1
  fi
  FL_WHAT="every table equals the clean run's"
}

# fl_scores_diff OUT A B: how far run B's scores are from run A's, one phrase: the largest |difference|
# of a log-probability over the prompts both scored, and the prompts only one of them scored.
fl_scores_diff() {
  local r max only_a only_b
  r=$(jobs/sql.sh --output "$1" --format csv "
    WITH a AS (SELECT * FROM scores WHERE run_id = '$2'), b AS (SELECT * FROM scores WHERE run_id = '$3')
    SELECT
      (SELECT max(greatest(abs(a.other_logprob - b.other_logprob), aggregate(map_keys(a.logprobs), 0D,
         (m, k) -> greatest(m, coalesce(abs(a.logprobs[k] - b.logprobs[k]), CAST('Infinity' AS DOUBLE))))))
       FROM a JOIN b USING (benchmark, prompt_id, temperature)),
      (SELECT count(*) FROM a LEFT ANTI JOIN b USING (benchmark, prompt_id, temperature)),
      (SELECT count(*) FROM b LEFT ANTI JOIN a USING (benchmark, prompt_id, temperature))" | tail -1)
  IFS=, read -r max only_a only_b <<<"$r"
  echo "scores: max |d log p| ${max:-?} over the shared prompts, ${only_a:-?}/${only_b:-?} prompts in one run only"
}

# fl_stack_lines FILE: the longest run of consecutive Java stack-frame lines ("\tat ...") in FILE.
fl_stack_lines() {
  awk '/^[[:space:]]+at [a-zA-Z_$][^ ]*\(/ { n++; if (n > m) m = n; next } { n = 0 } END { print m + 0 }' "$1"
}
