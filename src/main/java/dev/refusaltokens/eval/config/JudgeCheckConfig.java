package dev.refusaltokens.eval.config;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.refusaltokens.eval.judge.Label;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The configuration of {@code judge-check} ({@code conf/judge-check.yaml}): a labelled file of
 * responses, how to read it, and the judges to measure against its labels. Precedence as for the
 * evaluation: command line ({@code --set key=value}, {@code --file}, {@code --output}, {@code
 * --run-id}) &gt; the YAML file &gt; the {@code DEFAULT_*} constants.
 *
 * @param runId the check's id: the {@code run_id} partition of {@code judge_checks} and {@code
 *     judge_check_rejects}
 * @param output the folder of the tables
 * @param file the labelled file, folder or glob (any Hadoop file system URI)
 * @param format JSON Lines, CSV or Parquet; by the file's extension when not given
 * @param promptField the column of the prompt
 * @param responseField the column of the response (the text after the control token)
 * @param labelField the column of the person's label
 * @param categoryField the column of the category; null: {@code category} when the file has it
 * @param labels file label → {@code refused}, {@code partial} or {@code answered}; a value not
 *     listed is a reject ({@code unknown_label})
 * @param judges the judges measured, each against every row
 * @param confidence the level of κ's confidence interval, for each judge against the person and for
 *     each pair of judges
 */
public record JudgeCheckConfig(
    String runId,
    String output,
    String file,
    BenchmarkFormat format,
    String promptField,
    String responseField,
    String labelField,
    String categoryField,
    Map<String, Label> labels,
    List<JudgeConfig> judges,
    double confidence,
    String sparkMaster,
    Map<String, String> sparkConf)
    implements Serializable {

  public static final String RUN_ID = EvalConfig.RUN_ID;
  public static final String OUTPUT = EvalConfig.OUTPUT;
  public static final String FILE = "file";
  public static final String FORMAT = "format";
  public static final String PROMPT_FIELD = "fields.prompt";
  public static final String RESPONSE_FIELD = "fields.response";
  public static final String LABEL_FIELD = "fields.label";
  public static final String CATEGORY_FIELD = "fields.category";
  public static final String LABELS = "labels";
  public static final String CONFIDENCE = "confidence";
  public static final String SPARK_MASTER = EvalConfig.SPARK_MASTER;
  public static final String SPARK_CONF = EvalConfig.SPARK_CONF;

  public static final String DEFAULT_FILE = "data/judge-check/labelled-responses.jsonl";
  public static final String DEFAULT_PROMPT_FIELD = "prompt";
  public static final String DEFAULT_RESPONSE_FIELD = "response";
  public static final String DEFAULT_LABEL_FIELD = "label";

  /** Each human label spelled as itself. */
  public static final Map<String, Label> DEFAULT_LABELS = identity();

  /** The run id when none is given: {@code judge-check-} and the start time (UTC). */
  public static final String DEFAULT_RUN_ID_PREFIX = "judge-check-";

  private static final Pattern RUN_ID_PATTERN = Pattern.compile("[A-Za-z0-9_.-]{1,128}");
  private static final DateTimeFormatter RUN_ID_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  public JudgeCheckConfig {
    if (runId == null || !RUN_ID_PATTERN.matcher(runId).matches()) {
      throw ConfigException.badValue(
          RUN_ID, runId, "is not a valid run id", "use 1-128 letters, digits, '_', '-' or '.'");
    }
    nonEmpty(OUTPUT, output, "give a folder, e.g. " + EvalConfig.DEFAULT_OUTPUT);
    nonEmpty(FILE, file, "give the labelled file, e.g. " + DEFAULT_FILE);
    nonEmpty(PROMPT_FIELD, promptField, "name the column of the prompt");
    nonEmpty(RESPONSE_FIELD, responseField, "name the column of the response");
    nonEmpty(LABEL_FIELD, labelField, "name the column of the human label");
    if (categoryField != null && categoryField.isBlank()) {
      throw ConfigException.badValue(
          CATEGORY_FIELD,
          categoryField,
          "is empty",
          "name the column of the category, or leave the key out");
    }
    if (format == null) {
      format = BenchmarkFormat.ofPath(file);
    }
    if (labels == null || labels.isEmpty()) {
      throw ConfigException.badValue(
          LABELS,
          labels,
          "is empty",
          "map each label of the file to refused, partial or answered, e.g. {1_full_refusal: refused}");
    }
    labels.forEach(
        (value, label) -> {
          if (!Label.HUMAN.contains(label)) {
            throw ConfigException.badValue(
                LABELS + "." + value,
                label == null ? null : label.id(),
                "is not a label a person gives",
                "map it to one of " + Label.ids(Label.HUMAN));
          }
        });
    labels = Map.copyOf(labels);
    judges = List.copyOf(judges);
    if (!(confidence > 0.0 && confidence < 1.0)) {
      throw ConfigException.badValue(
          CONFIDENCE,
          confidence,
          "is not strictly between 0 and 1",
          "use a confidence level such as " + SweepConfig.DEFAULT_CONFIDENCE);
    }
    sparkConf = Map.copyOf(sparkConf);
  }

  /**
   * @param file a YAML config file, or null for defaults only
   * @param overrides dotted keys to values (YAML syntax), applied last
   * @param clock the check's start: the default run id
   */
  public static JudgeCheckConfig load(Path file, Map<String, String> overrides, Clock clock) {
    ObjectNode root = file == null ? JsonNodeFactory.instance.objectNode() : YamlFiles.read(file);
    overrides.forEach(
        (key, value) -> ConfigWriter.set(root, key, ConfigLoader.parseValue(key, value)));
    ConfigReader r = new ConfigReader(root);
    String runId = r.string(RUN_ID, null);
    if (runId == null) {
      runId = DEFAULT_RUN_ID_PREFIX + RUN_ID_TIME.format(clock.instant().atZone(ZoneOffset.UTC));
    }
    String path = r.string(FILE, DEFAULT_FILE);
    String format = r.string(FORMAT, null);
    JudgeCheckConfig config =
        new JudgeCheckConfig(
            runId,
            r.string(OUTPUT, EvalConfig.DEFAULT_OUTPUT),
            path,
            format == null ? null : BenchmarkFormat.parse(format, FORMAT),
            r.string(PROMPT_FIELD, DEFAULT_PROMPT_FIELD),
            r.string(RESPONSE_FIELD, DEFAULT_RESPONSE_FIELD),
            r.string(LABEL_FIELD, DEFAULT_LABEL_FIELD),
            r.string(CATEGORY_FIELD, null),
            labels(r),
            JudgeConfig.readAll(r),
            r.number(CONFIDENCE, SweepConfig.DEFAULT_CONFIDENCE),
            r.string(SPARK_MASTER, EvalConfig.DEFAULT_SPARK_MASTER),
            r.stringMap(SPARK_CONF));
    r.rejectUnknownKeys();
    return config;
  }

  private static Map<String, Label> labels(ConfigReader r) {
    if (!r.has(LABELS)) {
      r.raw(LABELS);
      return DEFAULT_LABELS;
    }
    Map<String, Label> out = new LinkedHashMap<>();
    r.stringMap(LABELS)
        .forEach(
            (value, id) -> {
              try {
                out.put(value, Label.fromId(id));
              } catch (IllegalArgumentException e) {
                throw ConfigException.badValue(
                    LABELS + "." + value,
                    id,
                    "is not a label",
                    "map each label of the file to one of " + Label.ids(Label.HUMAN));
              }
            });
    return out;
  }

  /** The column of the category as read: the configured one, else {@code category}. */
  public String categoryColumn() {
    return categoryField == null ? "category" : categoryField;
  }

  private static Map<String, Label> identity() {
    Map<String, Label> m = new LinkedHashMap<>();
    Label.HUMAN.forEach(l -> m.put(l.id(), l));
    return Map.copyOf(m);
  }

  private static void nonEmpty(String key, String value, String fix) {
    if (value == null || value.isBlank()) {
      throw ConfigException.badValue(key, value, "is empty", fix);
    }
  }
}
