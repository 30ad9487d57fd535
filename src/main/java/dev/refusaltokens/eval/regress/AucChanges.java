package dev.refusaltokens.eval.regress;

import dev.refusaltokens.eval.config.RegressConfig;
import dev.refusaltokens.eval.decide.Significance;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.table.RegressionRow;
import dev.refusaltokens.eval.table.RocRow;
import dev.refusaltokens.eval.table.RowReader;
import dev.refusaltokens.eval.table.RunTables;
import dev.refusaltokens.eval.table.Table;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.sql.Row;

/**
 * The change of the AUC of the shared threshold per temperature and category (from each run's
 * {@code roc} table), tested with the Hanley–McNeil z-test; categories whose AUC is undefined in
 * either run (NaN: one class only) are left out.
 */
final class AucChanges {

  private AucChanges() {}

  /** The AUC of one temperature × category of a run, with the prompts it was computed over. */
  private record Auc(double temperature, String category, double auc, long nRefuse, long nAnswer) {}

  /** One tested row per category both runs have at a shared temperature; not yet judged. */
  static List<RegressionRow> rows(
      RunTables baseline,
      RunTables candidate,
      RunPair runs,
      Set<Double> temperatures,
      RegressConfig config) {
    Map<String, Auc> base = aucs(baseline);
    Map<String, Auc> cand = aucs(candidate);
    List<RegressionRow> out = new ArrayList<>();
    for (Map.Entry<String, Auc> e : base.entrySet()) {
      Auc b = e.getValue();
      Auc c = cand.get(e.getKey());
      if (c == null
          || !temperatures.contains(b.temperature())
          || Double.isNaN(b.auc())
          || Double.isNaN(c.auc())) {
        continue;
      }
      double p =
          Significance.aucChange(
              b.auc(), b.nRefuse(), b.nAnswer(), c.auc(), c.nRefuse(), c.nAnswer());
      out.add(
          new RegressionRow(
              runs.baselineId(),
              "shared_threshold",
              b.temperature(),
              Columns.ALL,
              b.category(),
              "auc",
              Map.of(),
              Map.of(),
              b.nRefuse() + b.nAnswer(),
              c.nRefuse() + c.nAnswer(),
              0L,
              b.auc(),
              c.auc(),
              c.auc() - b.auc(),
              b.auc() - c.auc(),
              config.aucTolerance(),
              "hanley_mcneil_z",
              0L,
              0L,
              p,
              MultipleTesting.NOT_ADJUSTED,
              false,
              false,
              runs.candidateId()));
    }
    return out;
  }

  /** "temperature|category" → its AUC (every ROC point of a category carries the same). */
  private static Map<String, Auc> aucs(RunTables run) {
    Map<String, Auc> out = new TreeMap<>();
    // one row per temperature × category, not every ROC point (there are as many as distinct
    // scores)
    List<Row> distinct =
        run.read(Table.ROC)
            .select(
                Columns.TEMPERATURE,
                Columns.CATEGORY,
                RocRow.AUC,
                Columns.N_REFUSE,
                Columns.N_ANSWER)
            .distinct()
            .collectAsList();
    for (Row row : distinct) {
      Auc a = auc(row);
      out.put(a.temperature() + "|" + a.category(), a);
    }
    return out;
  }

  private static Auc auc(Row row) {
    RowReader r = RowReader.of(row);
    return new Auc(
        r.doubleValue(Columns.TEMPERATURE),
        r.string(Columns.CATEGORY),
        r.doubleValue(RocRow.AUC),
        r.longValue(Columns.N_REFUSE),
        r.longValue(Columns.N_ANSWER));
  }
}
