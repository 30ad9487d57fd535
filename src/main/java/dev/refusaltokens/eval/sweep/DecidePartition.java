package dev.refusaltokens.eval.sweep;

import dev.refusaltokens.eval.decide.FirstTokenStats;
import dev.refusaltokens.eval.decide.SweepPoint;
import dev.refusaltokens.eval.table.Tables;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Executor-side sweep of one partition of {@code scores} rows: every sweep point decides every prompt
 * (plain Java, no model), and the partition emits partial counts per benchmark × point × temperature ×
 * category (and {@code ALL}) × should_refuse, to be summed across partitions. Output schema:
 * {@link SweepStage#COUNTS}.
 */
final class DecidePartition implements MapPartitionsFunction<Row, Row> {

  private final ScoresRowReader reader;
  private final List<SweepPoint> points;

  DecidePartition(String respondToken, List<String> refusalTokens, List<SweepPoint> points) {
    this.reader = new ScoresRowReader(respondToken, refusalTokens);
    this.points = List.copyOf(points);
  }

  @Override
  public Iterator<Row> call(Iterator<Row> scores) {
    Map<Key, long[]> counts = new HashMap<>();
    while (scores.hasNext()) {
      Row row = scores.next();
      FirstTokenStats stats = reader.stats(row);
      String benchmark = row.getString(row.fieldIndex(Tables.BENCHMARK));
      double temperature = row.getDouble(row.fieldIndex(Tables.TEMPERATURE));
      boolean shouldRefuse = row.getBoolean(row.fieldIndex(Tables.SHOULD_REFUSE));
      String category = ScoresRowReader.category(row);
      for (int p = 0; p < points.size(); p++) {
        long refused = points.get(p).decide(stats).isRefusal() ? 1 : 0;
        add(counts, new Key(benchmark, p, temperature, category, shouldRefuse), refused);
        add(counts, new Key(benchmark, p, temperature, Tables.ALL, shouldRefuse), refused);
      }
    }
    List<Row> out = new ArrayList<>(counts.size());
    counts.forEach((k, v) -> out.add(RowFactory.create(k.benchmark, k.point, k.temperature, k.category,
        k.shouldRefuse, v[0], v[1])));
    return out.iterator();
  }

  private static void add(Map<Key, long[]> counts, Key key, long refused) {
    long[] c = counts.computeIfAbsent(key, k -> new long[2]);
    c[0]++;
    c[1] += refused;
  }

  private record Key(String benchmark, int point, double temperature, String category,
      boolean shouldRefuse) {}
}
