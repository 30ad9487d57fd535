#!/usr/bin/env bash
# Compares every table of two runs in one output folder, value for value: each row of every table of
# run A must be in run B as often, and the other way round (rows compared as JSON of every column but
# run_id, so maps and arrays compare in their written order). The runs table leaves out what differs
# between any two runs: started_at, ended_at, heartbeat_at, git_commit, and the runs columns named by --ignore (e.g.
# model_dir, an absolute path, when the two runs came from two checkouts). Prints one line per table and
# exits 1 when any table differs, 0 when all agree.
#
#   tools/compare_runs.sh --output DIR [--ignore COL[,COL...]] A B
#
# Used to check that a refactoring leaves the demo run's tables unchanged: evaluate with the old code,
# rename its partitions (run_id=X → run_id=A), evaluate with the new code as run X: see docs/tables.md.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: tools/compare_runs.sh --output DIR [--ignore COL[,COL...]] RUN_A RUN_B" >&2; exit 2; }
[[ $# -ge 4 && $1 == --output ]] || usage
out=$2
shift 2
ignore=""
if [[ $1 == --ignore ]]; then
  [[ $# == 4 && $2 =~ ^[a-z0-9_,]+$ ]] || usage
  ignore=", ${2//,/, }"
  shift 2
fi
[[ $# == 2 ]] || usage
a=$1 b=$2
[[ $a =~ ^[A-Za-z0-9_.-]+$ && $b =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "run ids are [A-Za-z0-9_.-]" >&2; exit 2; }
parts=()
for t in runs scores responses rejects rates judged_rates judge_agreement frontier operating_points roc calibration \
    first_tokens; do
  cols="* EXCEPT (run_id)"
  [[ $t == runs ]] && cols="* EXCEPT (run_id, started_at, ended_at, heartbeat_at, git_commit$ignore)"
  one() { echo "SELECT to_json(struct($cols)) AS j FROM $t WHERE run_id = '$1'"; }
  parts+=("SELECT '$t' AS table_name,
    (SELECT count(*) FROM $t WHERE run_id = '$a') AS rows_a,
    (SELECT count(*) FROM $t WHERE run_id = '$b') AS rows_b,
    (SELECT count(*) FROM ($(one "$a") EXCEPT ALL $(one "$b"))) AS only_a,
    (SELECT count(*) FROM ($(one "$b") EXCEPT ALL $(one "$a"))) AS only_b")
done
query=$(printf '%s UNION ALL ' "${parts[@]}")
query=${query% UNION ALL }
result=$(jobs/sql.sh --output "$out" --format csv "$query")
echo "$result"
echo "$result" | awk -F, 'NR > 1 && ($2 != $3 || $4 != 0 || $5 != 0) { bad = 1 }
  NR > 1 && ($1 == "runs" || $1 == "scores") && $2 == 0 { bad = 1 }
  END { if (bad) { print "DIFFERENT: some table differs (or runs/scores is empty)"; exit 1 }
        print "IDENTICAL: every table" }'
