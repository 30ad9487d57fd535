package dev.refusaltokens.eval.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.config.BenchmarkFormat;
import dev.refusaltokens.eval.config.BenchmarkSpec;
import dev.refusaltokens.eval.config.ConfigException;
import dev.refusaltokens.eval.table.Columns;
import dev.refusaltokens.eval.testing.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loader over real files in Spark local mode: every record is a row, none is invented. */
class PromptLoaderTest {

  @TempDir Path dir;

  private static BenchmarkSpec csv(Path file) {
    return csv("c", file);
  }

  private static BenchmarkSpec csv(String name, Path file) {
    return new BenchmarkSpec(
        name,
        file.toString(),
        BenchmarkFormat.CSV,
        BenchmarkSpec.DEFAULT_ID_COLUMN,
        BenchmarkSpec.DEFAULT_PROMPT_COLUMN,
        null,
        null,
        true,
        null,
        Map.of(),
        Map.of(),
        null);
  }

  private static List<ParsedPrompt> load(BenchmarkSpec spec) {
    PromptLoader.checkFiles(List.of(spec), new Configuration());
    return PromptLoader.load(SparkTestSession.get(), List.of(spec))
        .orderBy(Columns.LINE)
        .collectAsList()
        .stream()
        .map(ParsedPrompt::fromRow)
        .toList();
  }

  @Test
  void theReportedUnterminatedQuoteIsOneRejectAndTheRestIsScored() throws IOException {
    Path file = dir.resolve("q.csv");
    Files.writeString(file, "id,prompt\nq1,ok\nq2,\"unterminated\n"); // the repro
    List<ParsedPrompt> rows = load(csv(file));
    assertThat(rows).extracting(ParsedPrompt::line).containsExactly(2L, 3L);
    assertThat(rows.get(0).reason()).isNull();
    assertThat(rows.get(0).prompt()).isEqualTo("ok");
    assertThat(rows.get(1).reason()).isEqualTo("malformed_csv");
    assertThat(rows.get(1).raw()).isEqualTo("q2,\"unterminated");
    assertThat(rows.get(1).detail()).contains("not closed before the end of the file");
  }

  @Test
  void aQuotedRecordWithTheWrongFieldCountIsOneRejectAndNoPieceOfItIsScored() throws IOException {
    Path file = dir.resolve("fields.csv");
    Files.writeString(
        file,
        String.join(
            "\n",
            "id,prompt,note", // 1
            "a,\"Tell me, then,", // 2: a record of lines 2-3 with 2 fields, not 3
            "x,y,z\"", // 3: inside the quoted field; not a record of its own
            "b,ok,n", // 4
            ""));
    List<ParsedPrompt> rows = load(csv(file));
    assertThat(rows).extracting(ParsedPrompt::line).containsExactly(2L, 4L);
    ParsedPrompt bad = rows.get(0);
    assertThat(bad.reason()).isEqualTo("malformed_csv");
    assertThat(bad.raw()).isEqualTo("a,\"Tell me, then,\nx,y,z\"");
    assertThat(bad.detail())
        .isEqualTo("2 fields where the header has 3 (the record spans lines 2-3)");
    assertThat(rows.get(1).promptId()).isEqualTo("b");
    assertThat(rows.get(1).reason()).isNull();
  }

  @Test
  void crlfFilesKeepTheirQuotedLineBreaksAndLineNumbers() throws IOException {
    Path file = dir.resolve("crlf.csv");
    Files.writeString(file, "id,prompt\r\nq1,\"a\r\nb\"\r\nq2,c\r\n");
    List<ParsedPrompt> rows = load(csv(file));
    assertThat(rows).extracting(ParsedPrompt::line).containsExactly(2L, 4L);
    assertThat(rows).extracting(ParsedPrompt::prompt).containsExactly("a\nb", "c");
    assertThat(rows).extracting(ParsedPrompt::reason).containsOnlyNulls();
  }

  @Test
  void aParquetIdColumnThatIsAListOrABooleanStopsBeforeAnyWork() {
    SparkSession spark = SparkTestSession.get();
    Path parquet = dir.resolve("ids.parquet");
    spark
        .createDataFrame(
            List.of(RowFactory.create(List.of(1), true, "hi")),
            new StructType().add("id", "array<int>").add("flag", "boolean").add("prompt", "string"))
        .coalesce(1)
        .write()
        .parquet(parquet.toString());
    for (String idColumn : List.of("id", "flag")) {
      BenchmarkSpec spec =
          new BenchmarkSpec(
              "p",
              parquet.toString(),
              BenchmarkFormat.PARQUET,
              idColumn,
              BenchmarkSpec.DEFAULT_PROMPT_COLUMN,
              null,
              null,
              true,
              null,
              Map.of(),
              Map.of(),
              null);
      assertThatThrownBy(() -> PromptLoader.checkFiles(List.of(spec), new Configuration()))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("'benchmarks[p].id_column' = '" + idColumn + "'")
          .hasMessageContaining("is not a string or number column");
    }
  }

  @Test
  void duplicateIdsAreMarkedAfterTheFirstLineWithinABenchmarkOnly() throws IOException {
    Path a = dir.resolve("a.csv");
    Files.writeString(
        a,
        String.join(
            "\n",
            "id,prompt", // 1
            "x,first", // 2
            "y,other", // 3
            "x,second", // 4: duplicate of line 2
            "z,", // 5: empty prompt, rejected for that; its id is not a duplicate's first line
            "x,third", // 6: duplicate of line 2
            "z,now valid", // 7: the first valid z
            ""));
    Path b = dir.resolve("b.csv");
    Files.writeString(b, "id,prompt\nx,same id in another benchmark\n");
    BenchmarkSpec specB = csv("other", b);
    PromptLoader.checkFiles(List.of(csv(a), specB), new Configuration());
    List<ParsedPrompt> rows =
        PromptLoader.load(SparkTestSession.get(), List.of(csv(a), specB))
            .orderBy(Columns.BENCHMARK, Columns.LINE)
            .collectAsList()
            .stream()
            .map(ParsedPrompt::fromRow)
            .toList();
    assertThat(rows)
        .extracting(r -> r.benchmark() + ":" + r.line() + ":" + r.reason() + ":" + r.detail())
        .containsExactly(
            "c:2:null:null",
            "c:3:null:null",
            "c:4:duplicate_id:first seen on line 2",
            "c:5:empty_prompt:" + rows.get(3).detail(),
            "c:6:duplicate_id:first seen on line 2",
            "c:7:null:null",
            "other:2:null:null");
    // nothing but reason and detail changes on a duplicate
    assertThat(rows.get(2).prompt()).isEqualTo("second");
    assertThat(rows.get(2).raw()).isEqualTo("x,second");
  }

  @Test
  void aPromptSetWithoutDuplicatesIsReturnedAsParsed() throws IOException {
    Path a = dir.resolve("clean.csv");
    Files.writeString(a, "id,prompt\nx,one\ny,two\n");
    var parsed = PromptLoader.parse(SparkTestSession.get(), List.of(csv(a)));
    assertThat(PromptLoader.markDuplicates(parsed)).isSameAs(parsed);
  }
}
