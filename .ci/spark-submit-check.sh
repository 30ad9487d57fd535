#!/usr/bin/env bash
# Runs jobs/evaluate.sh through its spark-submit branch without a Spark distribution: a stand-in
# $SPARK_HOME/bin/spark-submit starts org.apache.spark.deploy.SparkSubmit (what the real script ends in)
# with Spark's own jars only, so the cluster jar must bring everything else (DJL engine discovery through
# merged META-INF/services, tokenizers, Jinjava, picocli) and libtorch comes through evaluate.sh's --jars.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -f target/classpath.txt ]] || { echo "run jobs/evaluate.sh once first (it builds)"; exit 1; }
fake=$(mktemp -d)
mkdir -p "$fake/bin"
tr ':' '\n' < target/classpath.txt \
  | grep -vE "/ai/djl/|/com/hubspot/|/info/picocli/|jackson-dataformat-yaml|/net/java/dev/jna/" \
  | paste -sd: - > "$fake/spark-classpath"
cat > "$fake/bin/spark-submit" <<EOS
#!/usr/bin/env bash
exec java $(tr '\n' ' ' < jobs/java17-spark.options) -Dlog4j2.configurationFile=conf/log4j2.properties -cp "\$(cat "$fake/spark-classpath")" \
  org.apache.spark.deploy.SparkSubmit "\$@"
EOS
chmod +x "$fake/bin/spark-submit"
out="$fake/warehouse"
SPARK_HOME="$fake" SPARK_SUBMIT_ARGS="--master local[2]" jobs/evaluate.sh --output "$out" --run-id ci-submit \
  --set scoring.canary_prompts=2
for table in runs scores rates frontier operating_points roc calibration first_tokens rejects; do
  ls "$out/$table/run_id=ci-submit/"*.parquet >/dev/null
done
rm -rf "$fake"
echo "spark-submit path: OK"
