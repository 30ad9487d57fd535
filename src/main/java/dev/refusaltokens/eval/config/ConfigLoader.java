package dev.refusaltokens.eval.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.refusaltokens.eval.decide.LogitBiasGrid;
import dev.refusaltokens.eval.decide.Rule;
import dev.refusaltokens.eval.decide.ThresholdGrid;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the one {@link EvalConfig} of a run. Precedence, in this one place: a {@code --set key=value}
 * (or a dedicated option such as {@code --output}) on the command line, then the YAML config file, then
 * the {@code DEFAULT_*} constants. Unknown keys and badly typed values stop the job here, before Spark.
 */
public final class ConfigLoader {

  private static final YAMLMapper YAML = new YAMLMapper();
  private static final DateTimeFormatter RUN_ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

  /** The built-in prompt sets, shipped in {@code data/coconot/}. */
  public static final List<BenchmarkSpec> DEFAULT_BENCHMARKS = List.of(
      // in the order conf/benchmarks/*.yaml lists them (sorted file names)
      new BenchmarkSpec("coconot_contrast", "data/coconot/coconot_contrast_eval.jsonl", false),
      new BenchmarkSpec("coconot_original", "data/coconot/coconot_eval.jsonl", true));

  private ConfigLoader() {}

  /**
   * @param file a YAML config file, or null for defaults only
   * @param overrides dotted keys to values (YAML syntax: {@code [1.0, 0.5]} is a list), applied last
   */
  public static EvalConfig load(Path file, Map<String, String> overrides, Clock clock) {
    ObjectNode root = file == null ? JsonNodeFactory.instance.objectNode() : readFile(file);
    overrides.forEach((key, value) -> set(root, key, parseValue(key, value)));
    ConfigReader r = new ConfigReader(root);

    ModelConfig model = new ModelConfig(
        r.string("model.dir", ModelConfig.DEFAULT_DIR),
        r.string("model.respond_token", null),
        r.stringList("model.refusal_tokens", null),
        r.string("model.system_prompt", null),
        // one time for the whole run, recorded in runs.config: what strftime_now in a chat template reads
        r.string("model.chat_template_time", java.time.LocalDateTime.now(clock)
            .truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString()));
    List<BenchmarkSpec> benchmarks = r.has("benchmarks") ? benchmarks(r) : DEFAULT_BENCHMARKS;
    ScoringConfig scoring = new ScoringConfig(
        r.doubleList("scoring.temperatures", ScoringConfig.DEFAULT_TEMPERATURES),
        r.integer("scoring.batch_tokens", ScoringConfig.DEFAULT_BATCH_TOKENS),
        r.integer("scoring.max_batch_size", ScoringConfig.DEFAULT_MAX_BATCH_SIZE),
        r.integer("scoring.batch_overhead_tokens", ScoringConfig.DEFAULT_BATCH_OVERHEAD_TOKENS),
        r.integer("scoring.window_rows", ScoringConfig.DEFAULT_WINDOW_ROWS),
        r.integer("scoring.rows_per_partition", ScoringConfig.DEFAULT_ROWS_PER_PARTITION),
        r.integer("scoring.checkpoint_rows", ScoringConfig.DEFAULT_CHECKPOINT_ROWS),
        r.integer("scoring.canary_prompts", ScoringConfig.DEFAULT_CANARY_PROMPTS),
        r.number("scoring.canary_tolerance", ScoringConfig.DEFAULT_CANARY_TOLERANCE));
    ThresholdGrid grid = grid(r);
    SweepConfig sweep = new SweepConfig(
        rules(r.stringList("sweep.rules", SweepConfig.DEFAULT_RULES.stream().map(Rule::id).toList())),
        grid,
        logitBias(r),
        r.doubleList("report.summary_thresholds", nearestOnGrid(SweepConfig.DEFAULT_SUMMARY_THRESHOLDS, grid)),
        r.longValue("sweep.frontier_max_points", SweepConfig.DEFAULT_FRONTIER_MAX_POINTS),
        frontierPairs(r, benchmarks),
        r.longValue("sweep.full_grid_rates_max_points", 0L),
        r.number("report.confidence", SweepConfig.DEFAULT_CONFIDENCE),
        r.string("report.interval", SweepConfig.WILSON),
        r.integer("report.bootstrap_replicates", SweepConfig.DEFAULT_BOOTSTRAP_REPLICATES),
        r.longValue("report.bootstrap_seed", SweepConfig.DEFAULT_BOOTSTRAP_SEED),
        r.has("operating_points") ? operatingPoints(r) : SweepConfig.DEFAULT_OPERATING_POINTS);
    RegressConfig regress = new RegressConfig(
        r.number("regress.tolerance", RegressConfig.DEFAULT_TOLERANCE),
        r.numberMap("regress.category_tolerance"),
        r.number("regress.auc_tolerance", RegressConfig.DEFAULT_AUC_TOLERANCE),
        r.number("regress.alpha", RegressConfig.DEFAULT_ALPHA),
        r.string("regress.correction", RegressConfig.HOLM),
        r.stringList("regress.operating_points", null));
    String runId = r.string("run_id", null);
    if (runId == null) {
      runId = RUN_ID_TIME.format(clock.instant().atZone(ZoneOffset.UTC)) + "-"
          + Path.of(model.dir()).getFileName();
    }
    String output = r.string("output", EvalConfig.DEFAULT_OUTPUT);
    String master = r.string("spark.master", EvalConfig.DEFAULT_SPARK_MASTER);
    Map<String, String> sparkConf = r.stringMap("spark.conf");
    r.rejectUnknownKeys();

    EvalConfig partial = new EvalConfig(runId, output, model, benchmarks, scoring, sweep, regress, master,
        sparkConf, "");
    return new EvalConfig(runId, output, model, benchmarks, scoring, sweep, regress, master, sparkConf,
        toYaml(partial));
  }

  private static ObjectNode readFile(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new ConfigException("Config file '" + file + "' does not exist; pass --config with an "
          + "existing YAML file, e.g. conf/evaluate.yaml");
    }
    try {
      JsonNode node = YAML.readTree(file.toFile());
      if (node == null || node.isMissingNode() || node.isNull()) {
        return JsonNodeFactory.instance.objectNode();
      }
      if (!node.isObject()) {
        throw new ConfigException("Config file '" + file + "' is not a YAML mapping of keys to values");
      }
      return (ObjectNode) node;
    } catch (IOException e) {
      throw new ConfigException("Config file '" + file + "' is not valid YAML: " + e.getMessage(), e);
    }
  }

  private static JsonNode parseValue(String key, String value) {
    try {
      JsonNode node = YAML.readTree(value);
      return node == null ? JsonNodeFactory.instance.nullNode() : node;
    } catch (JsonProcessingException e) {
      throw ConfigException.badValue(key, value, "is not a valid YAML value",
          "quote strings and write lists as [a, b]");
    }
  }

  private static void set(ObjectNode root, String dottedKey, JsonNode value) {
    String[] parts = dottedKey.split("\\.");
    ObjectNode node = root;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonNode child = node.get(parts[i]);
      if (child == null || !child.isObject()) {
        child = node.putObject(parts[i]);
      }
      node = (ObjectNode) child;
    }
    node.set(parts[parts.length - 1], value);
  }

  /**
   * {@code benchmarks}: a list whose items are benchmark mappings, or paths (globs allowed) of YAML files
   * holding one benchmark mapping each, e.g. {@code [conf/benchmarks/*.yaml]}.
   */
  private static List<BenchmarkSpec> benchmarks(ConfigReader r) {
    JsonNode list = r.raw("benchmarks");
    if (!list.isArray()) {
      throw ConfigException.badValue("benchmarks", list, "is not a list",
          "list benchmark mappings or benchmark files, e.g. [conf/benchmarks/*.yaml]");
    }
    List<BenchmarkSpec> specs = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode item = list.get(i);
      if (item.isTextual()) {
        for (Path file : expand(item.asText(), "benchmarks[" + i + "]")) {
          ObjectNode node = readFile(file);
          specs.add(benchmark(new ConfigReader(node, "benchmarks[" + file + "]."), file.toString()));
        }
      } else if (item.isObject()) {
        specs.add(benchmark(new ConfigReader((ObjectNode) item, "benchmarks[" + i + "]."), null));
      } else {
        throw ConfigException.badValue("benchmarks[" + i + "]", item, "is neither a mapping nor a file path",
            "give {name, path, …} or the path of a benchmark YAML file");
      }
    }
    return specs;
  }

  private static BenchmarkSpec benchmark(ConfigReader item, String source) {
    String idColumn = item.explicitNull("id_column") ? null : item.string("id_column", "id");
    item.string("id_column", null); // an explicit null is read too
    BenchmarkSpec spec = new BenchmarkSpec(
        item.string("name", null),
        item.string("path", null),
        item.string("format", null),
        idColumn,
        item.string("prompt_column", "prompt"),
        item.string("category_column", null),
        item.string("subcategory_column", null),
        item.optionalBool("should_refuse"),
        item.string("label.column", null),
        item.boolMap("label.values"),
        item.stringMap("category_map"),
        source);
    item.rejectUnknownKeys();
    return spec;
  }

  /** A path, or a glob in its last part ({@code conf/benchmarks/*.yaml}), as sorted existing files. */
  private static List<Path> expand(String pattern, String key) {
    Path p = Path.of(pattern);
    String last = p.getFileName() == null ? "" : p.getFileName().toString();
    if (!last.contains("*") && !last.contains("?") && !last.contains("[")) {
      if (!Files.isRegularFile(p)) {
        throw ConfigException.badValue(key, pattern, "is not a file", "give the path of a benchmark YAML file");
      }
      return List.of(p);
    }
    Path dir = p.getParent() == null ? Path.of(".") : p.getParent();
    java.nio.file.PathMatcher matcher = dir.getFileSystem().getPathMatcher("glob:" + last);
    try (java.util.stream.Stream<Path> files = Files.list(dir)) {
      List<Path> out = files.filter(f -> Files.isRegularFile(f) && matcher.matches(f.getFileName())).sorted().toList();
      if (out.isEmpty()) {
        throw ConfigException.badValue(key, pattern, "matches no file", "check the folder and the pattern");
      }
      return out;
    } catch (IOException e) {
      throw ConfigException.badValue(key, pattern, "cannot be listed (" + e.getMessage() + ")",
          "check the folder exists and is readable");
    }
  }

  private static List<OperatingPointTarget> operatingPoints(ConfigReader r) {
    List<OperatingPointTarget> targets = new ArrayList<>();
    List<JsonNode> items = r.objectList("operating_points", "{name, refusal_at_least, default_refusal_at_least}");
    for (int i = 0; i < items.size(); i++) {
      ConfigReader item = new ConfigReader((ObjectNode) items.get(i), "operating_points[" + i + "].");
      String name = item.string("name", null);
      Map<String, Double> atLeast = new LinkedHashMap<>();
      item.numberMap("refusal_at_least").forEach(atLeast::put);
      double dflt = item.number("default_refusal_at_least", Double.NaN);
      targets.add(new OperatingPointTarget(name, atLeast, Double.isNaN(dflt) ? null : dflt));
      item.rejectUnknownKeys();
    }
    return targets;
  }

  private static LogitBiasGrid logitBias(ConfigReader r) {
    List<Double> values = r.doubleList("sweep.logit_bias.values", LogitBiasGrid.DEFAULT.values());
    long max = r.longValue("sweep.logit_bias.full_grid_max_points", LogitBiasGrid.DEFAULT.fullGridMaxPoints());
    if (max < 0 || max > 1_000_000) {
      throw ConfigException.badValue("sweep.logit_bias.full_grid_max_points", max, "is outside [0, 1e6]",
          "each point decides every prompt: keep the full bias grid moderate, e.g. "
              + LogitBiasGrid.DEFAULT.fullGridMaxPoints());
    }
    try {
      return new LogitBiasGrid(values, max);
    } catch (IllegalArgumentException e) {
      throw ConfigException.badValue("sweep.logit_bias.values", values, "is invalid (" + e.getMessage() + ")",
          "list finite biases in increasing order, e.g. [-4, -2, 0, 2, 4]");
    }
  }

  /** Null (the default) when the key is absent: every should-refuse × should-answer benchmark pair. */
  private static List<FrontierPair> frontierPairs(ConfigReader r, List<BenchmarkSpec> benchmarks) {
    if (!r.has("sweep.frontier_pairs")) {
      r.string("sweep.frontier_pairs", null); // marks an explicit null as read
      return null;
    }
    List<FrontierPair> pairs = new ArrayList<>();
    List<JsonNode> items = r.objectList("sweep.frontier_pairs", "{refusal, answer}");
    for (int i = 0; i < items.size(); i++) {
      ConfigReader item = new ConfigReader((ObjectNode) items.get(i), "sweep.frontier_pairs[" + i + "].");
      FrontierPair pair = new FrontierPair(item.string("refusal", null), item.string("answer", null));
      item.rejectUnknownKeys();
      String key = "sweep.frontier_pairs[" + i + "]";
      for (boolean refusal : new boolean[] {true, false}) {
        String side = refusal ? "refusal" : "answer";
        String name = refusal ? pair.refusal() : pair.answer();
        if (name == null) {
          throw ConfigException.badValue(key + "." + side, null, "is missing",
              "give both refusal (a should-refuse benchmark) and answer (a should-answer benchmark)");
        }
        BenchmarkSpec b = benchmarks.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow(() ->
            ConfigException.badValue(key + "." + side, name, "names a benchmark which is not configured",
                "use names from benchmarks: " + benchmarks.stream().map(BenchmarkSpec::name).toList()));
        if (!b.mayHave(refusal)) {
          throw ConfigException.badValue(key + "." + side, name, "is a should-" + (refusal ? "answer" : "refuse")
              + " benchmark", "refusal names a should-refuse benchmark, answer a should-answer one");
        }
      }
      pairs.add(pair);
    }
    return pairs;
  }

  private static List<Rule> rules(List<String> ids) {
    List<Rule> rules = new ArrayList<>();
    for (String id : ids) {
      try {
        rules.add(Rule.fromId(id));
      } catch (IllegalArgumentException e) {
        throw ConfigException.badValue("sweep.rules", ids, "contains the unknown rule '" + id + "'",
            "use rules from greedy, argmax, threshold, logit_bias");
      }
    }
    return rules;
  }

  private static ThresholdGrid grid(ConfigReader r) {
    ThresholdGrid d = ThresholdGrid.DEFAULT;
    double start = r.number("sweep.grid.start", d.start());
    double stop = r.number("sweep.grid.stop", d.stop());
    double step = r.number("sweep.grid.step", d.step());
    try {
      return new ThresholdGrid(start, stop, step);
    } catch (IllegalArgumentException e) {
      throw ConfigException.badValue("sweep.grid", "start=" + start + ", stop=" + stop + ", step=" + step,
          "is invalid (" + e.getMessage() + ")", "thresholds are probabilities: keep 0 ≤ start ≤ stop ≤ 1, step > 0");
    }
  }

  /** The default summary thresholds moved to the nearest grid values, so any grid has a summary. */
  private static List<Double> nearestOnGrid(List<Double> wanted, ThresholdGrid grid) {
    List<Double> values = grid.values();
    return wanted.stream()
        .map(w -> values.stream().min(java.util.Comparator.comparingDouble(v -> Math.abs(v - w))).orElseThrow())
        .distinct()
        .toList();
  }

  /** The effective configuration, every key spelled out, as YAML. */
  public static String toYaml(EvalConfig c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("run_id", c.runId());
    m.put("output", c.output());
    Map<String, Object> model = new LinkedHashMap<>();
    model.put("dir", c.model().dir());
    model.put("respond_token", c.model().respondToken());
    model.put("refusal_tokens", c.model().refusalTokens());
    model.put("system_prompt", c.model().systemPrompt());
    model.put("chat_template_time", c.model().chatTemplateTime());
    m.put("model", model);
    List<Map<String, Object>> benchmarks = new ArrayList<>();
    for (BenchmarkSpec b : c.benchmarks()) {
      Map<String, Object> bm = new LinkedHashMap<>();
      bm.put("name", b.name());
      bm.put("path", b.path());
      bm.put("format", b.format());
      bm.put("id_column", b.idColumn());
      bm.put("prompt_column", b.promptColumn());
      bm.put("category_column", b.categoryColumn());
      bm.put("subcategory_column", b.subcategoryColumn());
      if (b.shouldRefuse() != null) {
        bm.put("should_refuse", b.shouldRefuse());
      } else {
        // LinkedHashMap, not Map.of: Map.of iterates in an order salted per JVM, and runs.config is compared
        Map<String, Object> label = new LinkedHashMap<>();
        label.put("column", b.labelColumn());
        label.put("values", new java.util.TreeMap<>(b.labelValues()));
        bm.put("label", label);
      }
      bm.put("category_map", new java.util.TreeMap<>(b.categoryMap()));
      benchmarks.add(bm);
    }
    m.put("benchmarks", benchmarks);
    ScoringConfig s = c.scoring();
    Map<String, Object> scoring = new LinkedHashMap<>();
    scoring.put("temperatures", s.temperatures());
    scoring.put("batch_tokens", s.batchTokens());
    scoring.put("max_batch_size", s.maxBatchSize());
    scoring.put("batch_overhead_tokens", s.batchOverheadTokens());
    scoring.put("window_rows", s.windowRows());
    scoring.put("rows_per_partition", s.rowsPerPartition());
    scoring.put("checkpoint_rows", s.checkpointRows());
    scoring.put("canary_prompts", s.canaryPrompts());
    scoring.put("canary_tolerance", s.canaryTolerance());
    m.put("scoring", scoring);
    Map<String, Object> grid = new LinkedHashMap<>();
    grid.put("start", c.sweep().grid().start());
    grid.put("stop", c.sweep().grid().stop());
    grid.put("step", c.sweep().grid().step());
    Map<String, Object> sweep = new LinkedHashMap<>();
    sweep.put("rules", c.sweep().rules().stream().map(Rule::id).toList());
    sweep.put("grid", grid);
    Map<String, Object> bias = new LinkedHashMap<>();
    bias.put("values", c.sweep().logitBias().values());
    bias.put("full_grid_max_points", c.sweep().logitBias().fullGridMaxPoints());
    sweep.put("logit_bias", bias);
    sweep.put("frontier_max_points", c.sweep().frontierMaxPoints());
    sweep.put("frontier_pairs", c.sweep().frontierPairs() == null ? null : c.sweep().frontierPairs().stream()
        .map(p -> {
          Map<String, Object> pm = new LinkedHashMap<>();
          pm.put("refusal", p.refusal());
          pm.put("answer", p.answer());
          return pm;
        }).toList());
    sweep.put("full_grid_rates_max_points", c.sweep().fullGridRatesMaxPoints());
    m.put("sweep", sweep);
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("summary_thresholds", c.sweep().summaryThresholds());
    report.put("confidence", c.sweep().confidence());
    report.put("interval", c.sweep().interval());
    report.put("bootstrap_replicates", c.sweep().bootstrapReplicates());
    report.put("bootstrap_seed", c.sweep().bootstrapSeed());
    m.put("report", report);
    List<Map<String, Object>> points = new ArrayList<>();
    for (OperatingPointTarget t : c.sweep().operatingPoints()) {
      Map<String, Object> pm = new LinkedHashMap<>();
      pm.put("name", t.name());
      pm.put("refusal_at_least", new java.util.TreeMap<>(t.refusalAtLeast()));
      pm.put("default_refusal_at_least", t.defaultRefusalAtLeast());
      points.add(pm);
    }
    m.put("operating_points", points);
    Map<String, Object> regress = new LinkedHashMap<>();
    regress.put("tolerance", c.regress().tolerance());
    regress.put("category_tolerance", new java.util.TreeMap<>(c.regress().categoryTolerance()));
    regress.put("auc_tolerance", c.regress().aucTolerance());
    regress.put("alpha", c.regress().alpha());
    regress.put("correction", c.regress().correction());
    regress.put("operating_points", c.regress().operatingPoints());
    m.put("regress", regress);
    Map<String, Object> spark = new LinkedHashMap<>();
    spark.put("master", c.sparkMaster());
    spark.put("conf", new java.util.TreeMap<>(c.sparkConf())); // sorted: EvalConfig holds a Map.copyOf
    m.put("spark", spark);
    try {
      return YAML.writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
