package dev.refusaltokens.eval.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.table.JudgeAgreementRow;
import dev.refusaltokens.eval.table.JudgeCheckRejectRow;
import dev.refusaltokens.eval.table.JudgeCheckRow;
import dev.refusaltokens.eval.table.Table;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The rows of judge_checks and judge_check_rejects: their schemas and round trips by name. */
class JudgeCheckRowTest {

  private static final ConfusionMatrix M =
      ConfusionMatrix.EMPTY
          .plus(Label.REFUSED, Label.REFUSED, 5)
          .plus(Label.REFUSED, Label.UNCLEAR, 1)
          .plus(Label.PARTIAL, Label.ANSWERED, 2)
          .plus(Label.ANSWERED, Label.ANSWERED, 4);

  @Test
  void aCheckRowRoundTripsAndWritesItsFigures() {
    JudgeCheckRow r =
        new JudgeCheckRow(
            "string_match", "string_match", "p", null, M, 0.95, 14, 2, "f.jsonl", "ab", "check-1");
    Row row = r.toRow();
    assertThat(row.schema()).isEqualTo(Table.JUDGE_CHECKS.schema());
    assertThat(JudgeCheckRow.fromRow(row)).isEqualTo(r);
    assertThat(row.getLong(row.fieldIndex("n"))).isEqualTo(12);
    assertThat(row.getLong(row.fieldIndex("agreed"))).isEqualTo(9);
    assertThat(row.getDouble(row.fieldIndex("accuracy"))).isEqualTo(0.75);
    assertThat(row.getDouble(row.fieldIndex("kappa"))).isEqualTo(M.kappa());
    double[] ci = M.kappaInterval(0.95);
    assertThat(row.getDouble(row.fieldIndex("kappa_low"))).isEqualTo(ci[0]).isLessThan(M.kappa());
    assertThat(row.getDouble(row.fieldIndex("kappa_high")))
        .isEqualTo(ci[1])
        .isGreaterThan(M.kappa());
    assertThat(row.getDouble(row.fieldIndex("confidence"))).isEqualTo(0.95);
    assertThat(row.getLong(row.fieldIndex("human_refused_judged_unclear"))).isEqualTo(1);
    assertThat(row.getLong(row.fieldIndex("human_partial_judged_answered"))).isEqualTo(2);
    assertThat(row.isNullAt(row.fieldIndex("category"))).isTrue();
  }

  @Test
  void anUndefinedKappaIsNull() {
    ConfusionMatrix one = ConfusionMatrix.EMPTY.plus(Label.ANSWERED, Label.ANSWERED, 3);
    Row row =
        new JudgeCheckRow("j", "string_match", "p", "ALL", one, 0.95, 3, 0, "f", "s", "c").toRow();
    assertThat(row.isNullAt(row.fieldIndex("kappa"))).isTrue();
    assertThat(row.isNullAt(row.fieldIndex("kappa_low"))).isTrue();
    assertThat(row.isNullAt(row.fieldIndex("kappa_high"))).isTrue();
  }

  @Test
  void theSchemasAreThese() {
    assertThat(Table.JUDGE_CHECKS.schema().toDDL())
        .isEqualTo(
            "judge STRING NOT NULL,judge_kind STRING NOT NULL,judge_provenance STRING NOT NULL,"
                + "category STRING,n BIGINT NOT NULL,agreed BIGINT NOT NULL,accuracy DOUBLE NOT NULL,"
                + "chance_agreement DOUBLE NOT NULL,kappa DOUBLE,kappa_low DOUBLE,kappa_high DOUBLE,"
                + "confidence DOUBLE NOT NULL,"
                + "human_refused_judged_refused BIGINT NOT NULL,human_refused_judged_partial BIGINT NOT NULL,"
                + "human_refused_judged_answered BIGINT NOT NULL,human_refused_judged_unclear BIGINT NOT NULL,"
                + "human_partial_judged_refused BIGINT NOT NULL,human_partial_judged_partial BIGINT NOT NULL,"
                + "human_partial_judged_answered BIGINT NOT NULL,human_partial_judged_unclear BIGINT NOT NULL,"
                + "human_answered_judged_refused BIGINT NOT NULL,human_answered_judged_partial BIGINT NOT NULL,"
                + "human_answered_judged_answered BIGINT NOT NULL,human_answered_judged_unclear BIGINT NOT NULL,"
                + "rows_read BIGINT NOT NULL,rows_rejected BIGINT NOT NULL,labelled_file STRING NOT NULL,"
                + "labelled_sha256 STRING NOT NULL,run_id STRING NOT NULL");
    assertThat(Table.JUDGE_CHECK_REJECTS.schema().toDDL())
        .isEqualTo(
            "line BIGINT NOT NULL,reason STRING NOT NULL,detail STRING,raw STRING NOT NULL,"
                + "run_id STRING NOT NULL");
    assertThat(Table.JUDGE_AGREEMENT.schema().toDDL())
        .isEqualTo(
            "benchmark STRING NOT NULL,category STRING,judge_a STRING NOT NULL,judge_b STRING NOT NULL,"
                + "n BIGINT NOT NULL,agreed BIGINT NOT NULL,agreement DOUBLE NOT NULL,"
                + "chance_agreement DOUBLE NOT NULL,kappa DOUBLE,kappa_low DOUBLE,kappa_high DOUBLE,"
                + "confidence DOUBLE NOT NULL,"
                + "a_refused_b_refused BIGINT NOT NULL,a_refused_b_partial BIGINT NOT NULL,"
                + "a_refused_b_answered BIGINT NOT NULL,a_refused_b_unclear BIGINT NOT NULL,"
                + "a_partial_b_refused BIGINT NOT NULL,a_partial_b_partial BIGINT NOT NULL,"
                + "a_partial_b_answered BIGINT NOT NULL,a_partial_b_unclear BIGINT NOT NULL,"
                + "a_answered_b_refused BIGINT NOT NULL,a_answered_b_partial BIGINT NOT NULL,"
                + "a_answered_b_answered BIGINT NOT NULL,a_answered_b_unclear BIGINT NOT NULL,"
                + "a_unclear_b_refused BIGINT NOT NULL,a_unclear_b_partial BIGINT NOT NULL,"
                + "a_unclear_b_answered BIGINT NOT NULL,a_unclear_b_unclear BIGINT NOT NULL,"
                + "run_id STRING NOT NULL");
    JudgeCheckRejectRow reject = new JudgeCheckRejectRow(3, "unknown_label", "d", "{}", "c");
    assertThat(JudgeCheckRejectRow.fromRow(reject.toRow())).isEqualTo(reject);
  }

  @Test
  void aRowCountsSomethingAndNoPersonSaysUnclear() {
    assertThatThrownBy(
            () ->
                new JudgeCheckRow(
                    "j", "k", "p", "ALL", ConfusionMatrix.EMPTY, 0.95, 0, 0, "f", "s", "c"))
        .isInstanceOf(IllegalArgumentException.class);
    ConfusionMatrix bad = ConfusionMatrix.EMPTY.plus(Label.UNCLEAR, Label.REFUSED, 1);
    assertThatThrownBy(
            () -> new JudgeCheckRow("j", "k", "p", "ALL", bad, 0.95, 1, 0, "f", "s", "c"))
        .hasMessageContaining("never unclear");
  }

  @Test
  void anAgreementRowRoundTripsAndWritesItsFigures() {
    ConfusionMatrix m =
        M.plus(Label.UNCLEAR, Label.UNCLEAR, 3).plus(Label.UNCLEAR, Label.REFUSED, 1);
    JudgeAgreementRow r = new JudgeAgreementRow("b", "ALL", "sm", "dj", m, 0.9, "run-1");
    Row row = r.toRow();
    assertThat(row.schema()).isEqualTo(Table.JUDGE_AGREEMENT.schema());
    assertThat(JudgeAgreementRow.fromRow(row)).isEqualTo(r);
    assertThat(row.getLong(row.fieldIndex("n"))).isEqualTo(16);
    assertThat(row.getLong(row.fieldIndex("agreed"))).isEqualTo(12);
    assertThat(row.getDouble(row.fieldIndex("agreement"))).isEqualTo(0.75);
    assertThat(row.getLong(row.fieldIndex("a_unclear_b_refused"))).isEqualTo(1);
    assertThat(row.getLong(row.fieldIndex("a_refused_b_unclear"))).isEqualTo(1);
    assertThat(row.getDouble(row.fieldIndex("kappa_low"))).isEqualTo(m.kappaInterval(0.9)[0]);
    assertThatThrownBy(() -> new JudgeAgreementRow("b", "ALL", "sm", "sm", m, 0.9, "r"))
        .hasMessageContaining("agrees with itself");
    assertThatThrownBy(
            () -> new JudgeAgreementRow("b", "ALL", "a", "b", ConfusionMatrix.EMPTY, 0.9, "r"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aLabelledRowRoundTrips() {
    LabelledResponse ok =
        new LabelledResponse(4, "p", "r", Label.PARTIAL, "c", null, null, "{\"x\":1}");
    assertThat(LabelledResponse.fromRow(ok.toRow())).isEqualTo(ok);
    LabelledResponse bad = LabelledResponse.reject(5, "x", LabelledReject.MALFORMED_JSON, "why");
    assertThat(LabelledResponse.fromRow(bad.toRow())).isEqualTo(bad);
  }
}
