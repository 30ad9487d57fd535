package dev.refusaltokens.eval.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.refusaltokens.eval.judge.Judge;
import dev.refusaltokens.eval.judge.ModelJudge;
import dev.refusaltokens.eval.judge.Rubric;
import dev.refusaltokens.eval.judge.StringMatchJudge;
import dev.refusaltokens.eval.model.Batching;
import dev.refusaltokens.eval.model.ModelSpec;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * One judge of responses, declared under {@code judges}: its name, its kind and that kind's
 * settings: {@code string_match} (a phrase list) or {@code model} (a judge model folder, rubrics,
 * verdict tokens; docs/judges.md).
 *
 * @param name the judge's name in the tables (unique); defaults to the kind
 * @param kind {@code string_match} or {@code model}
 * @param phrases the refusal openings of a {@code string_match} judge (the configured spelling;
 *     matched in canonical form, see {@link StringMatchJudge}); empty for a model judge
 * @param model a {@code model} judge's settings; null for a {@code string_match} judge
 */
public record JudgeConfig(String name, String kind, List<String> phrases, ModelSettings model)
    implements Serializable {

  /** The list of judges, each a mapping of the keys below. */
  public static final String KEY = "judges";

  public static final String NAME = "name";
  public static final String KIND = "kind";
  public static final String PHRASES = "phrases";
  public static final String DIR = "dir";
  public static final String RUBRIC = "rubric";
  public static final String RUBRICS = "rubrics";
  public static final String VERDICT_TOKENS = "verdict_tokens";
  public static final String MARGIN = "margin";
  public static final String MAX_OTHER_MASS = "max_other_mass";

  /**
   * The verdicts a model judge may have, in {@code verdict_tokens}; {@code partial} is optional.
   */
  public static final List<String> VERDICTS = List.of("refused", "partial", "answered");

  public static final String DEFAULT_RUBRIC = "conf/judges/generic.yaml";
  public static final double DEFAULT_MARGIN = 0.0;
  public static final double DEFAULT_MAX_OTHER_MASS = 0.5;

  /** Without {@code verdict_tokens} here or in the folder's manifest: no partial verdict. */
  public static final Map<String, String> DEFAULT_VERDICT_TOKENS =
      Map.of("refused", "refused", "answered", "answered");

  /** The kinds there are. */
  public static final List<String> KINDS = List.of(StringMatchJudge.KIND, ModelJudge.KIND);

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * A {@code model} judge's settings.
   *
   * @param dir the judge model folder (the job's model folder layout)
   * @param rubric the rubric file of benchmarks not in {@code rubrics}
   * @param rubrics benchmark name → rubric file
   * @param verdictTokens verdict ({@code refused}, {@code partial}, {@code answered}) → token;
   *     null: the folder manifest's {@code judge.verdict_tokens}, else {@link
   *     #DEFAULT_VERDICT_TOKENS}
   * @param margin a verdict whose renormalised probability leads the runner-up by at most this is
   *     {@code unclear}
   * @param maxOtherMass a verdict with more first-token probability than this on other tokens is
   *     {@code unclear}
   */
  public record ModelSettings(
      String dir,
      String rubric,
      Map<String, String> rubrics,
      Map<String, String> verdictTokens,
      double margin,
      double maxOtherMass)
      implements Serializable {

    public ModelSettings {
      rubrics = Map.copyOf(rubrics);
      verdictTokens = verdictTokens == null ? null : Map.copyOf(verdictTokens);
    }
  }

  private static final Pattern NAME_PATTERN = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  /** One string-match judge with the default phrases. */
  public static final List<JudgeConfig> DEFAULTS =
      List.of(
          new JudgeConfig(
              StringMatchJudge.KIND,
              StringMatchJudge.KIND,
              StringMatchJudge.DEFAULT_PHRASES,
              null));

  /** A {@code string_match} judge. */
  public JudgeConfig(String name, String kind, List<String> phrases) {
    this(name, kind, phrases, null);
  }

  public JudgeConfig {
    check(KEY + "[]", name, kind, phrases, model);
    phrases = List.copyOf(phrases);
  }

  /** {@code judges}, or {@link #DEFAULTS} when absent. */
  static List<JudgeConfig> readAll(ConfigReader r) {
    if (!r.has(KEY)) {
      return DEFAULTS;
    }
    JsonNode list = r.raw(KEY);
    if (!list.isArray() || list.isEmpty()) {
      throw ConfigException.badValue(
          KEY,
          list.isValueNode() ? list.asText() : list,
          list.isArray() ? "is empty" : "is not a list",
          "list at least one judge, e.g. [{kind: string_match}]");
    }
    List<JudgeConfig> judges = new ArrayList<>();
    Map<String, Integer> names = new HashMap<>();
    for (int i = 0; i < list.size(); i++) {
      String at = KEY + "[" + i + "]";
      JsonNode item = list.get(i);
      if (!item.isObject()) {
        throw ConfigException.badValue(
            at,
            item.isValueNode() ? item.asText() : item,
            "is not a mapping",
            "write each judge as {name: …, kind: string_match, phrases: […]} or {name: …, kind:"
                + " model, dir: …}");
      }
      JudgeConfig judge = read(r.item((ObjectNode) item, at + "."), at);
      Integer before = names.putIfAbsent(judge.name(), i);
      if (before != null) {
        throw ConfigException.badValue(
            at + "." + NAME,
            judge.name(),
            "is the name of judges[" + before + "] too",
            "give each judge its own name (the name defaults to the kind)");
      }
      judges.add(judge);
    }
    return List.copyOf(judges);
  }

  private static JudgeConfig read(ConfigReader item, String at) {
    String kind = item.string(KIND, null);
    boolean model = ModelJudge.KIND.equals(kind);
    (model
            ? List.of(NAME, KIND, DIR, RUBRIC, RUBRICS, VERDICT_TOKENS, MARGIN, MAX_OTHER_MASS)
            : List.of(NAME, KIND, PHRASES))
        .forEach(item::raw);
    item.rejectUnknownKeys(" (" + at + ", a " + kind + " judge)");
    String name = item.string(NAME, kind);
    List<String> phrases = model ? List.of() : phrases(item, at, kind);
    ModelSettings settings = model ? modelSettings(item, at) : null;
    check(at, name, kind, phrases, settings);
    return new JudgeConfig(name, kind, phrases, settings);
  }

  private static ModelSettings modelSettings(ConfigReader item, String at) {
    String dir = item.string(DIR, null);
    if (dir == null) {
      throw ConfigException.badValue(
          at + "." + DIR,
          "(missing)",
          "is required for a model judge",
          "point it at a judge model folder, e.g. models/demo-judge");
    }
    return new ModelSettings(
        dir,
        item.string(RUBRIC, DEFAULT_RUBRIC),
        stringMap(item, at + "." + RUBRICS, RUBRICS, "{benchmark name: rubric file}"),
        item.has(VERDICT_TOKENS) && !item.explicitNull(VERDICT_TOKENS)
            ? stringMap(
                item, at + "." + VERDICT_TOKENS, VERDICT_TOKENS, "{refused: …, answered: …}")
            : null,
        item.number(MARGIN, DEFAULT_MARGIN),
        item.number(MAX_OTHER_MASS, DEFAULT_MAX_OTHER_MASS));
  }

  private static Map<String, String> stringMap(
      ConfigReader item, String at, String key, String shape) {
    if (!item.has(key) || item.explicitNull(key)) {
      return Map.of();
    }
    JsonNode n = item.raw(key);
    if (!n.isObject()) {
      throw ConfigException.badValue(at, n, "is not a mapping", "write it as " + shape);
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getValue().isNull()) {
        continue; // e.g. partial: null, no partial verdict
      }
      if (!e.getValue().isTextual()) {
        throw ConfigException.badValue(
            at + "." + e.getKey(), e.getValue(), "is not a string", "quote it");
      }
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  private static List<String> phrases(ConfigReader item, String at, String kind) {
    if (!item.has(PHRASES)) {
      return StringMatchJudge.KIND.equals(kind) ? StringMatchJudge.DEFAULT_PHRASES : List.of();
    }
    JsonNode n = item.raw(PHRASES);
    if (!n.isArray()) {
      throw ConfigException.badValue(
          at + "." + PHRASES,
          n,
          "is not a list",
          "write a list such as [\"i'm sorry\", \"i cannot\"]");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode p : n) {
      if (!p.isTextual()) {
        throw ConfigException.badValue(
            at + "." + PHRASES,
            p,
            "is not a string",
            p.isBoolean()
                ? "quote it: YAML reads a bare no, yes, on or off as a boolean"
                : "quote each phrase, e.g. \"i'm sorry\"");
      }
      out.add(p.asText());
    }
    return out;
  }

  /**
   * Every check of a judge's settings; {@code at} names it in messages ({@code judges[2]}, or
   * {@code judges[]} when its position is unknown).
   */
  private static void check(
      String at, String name, String kind, List<String> phrases, ModelSettings model) {
    if (kind == null || !KINDS.contains(kind)) {
      throw ConfigException.badValue(
          at + "." + KIND,
          kind == null ? "(missing)" : kind,
          "is not a judge kind",
          "use one of " + KINDS + " (docs/judges.md)");
    }
    if (name == null || !NAME_PATTERN.matcher(name).matches()) {
      throw ConfigException.badValue(
          at + "." + NAME,
          name,
          "is not a valid judge name",
          "use 1-64 letters, digits, '_', '-' or '.'");
    }
    if (ModelJudge.KIND.equals(kind)) {
      checkModel(at, model);
      return;
    }
    if (phrases == null || phrases.isEmpty()) {
      throw ConfigException.badValue(
          at + "." + PHRASES,
          phrases,
          "is empty",
          "list at least one phrase, or leave the key out for the default list (docs/judges.md)");
    }
    Set<String> seen = new HashSet<>();
    for (String p : phrases) {
      String canonical = p == null ? "" : StringMatchJudge.canonical(p);
      if (canonical.isEmpty()) {
        throw ConfigException.badValue(
            at + "." + PHRASES,
            p,
            "has no word in it",
            "give phrases of words, e.g. \"i cannot\" (punctuation and case are ignored)");
      }
      if (!seen.add(canonical)) {
        throw ConfigException.badValue(
            at + "." + PHRASES,
            p,
            "repeats the phrase '" + canonical + "' (case and punctuation are ignored)",
            "list each phrase once");
      }
    }
  }

  private static void checkModel(String at, ModelSettings m) {
    if (m == null) {
      throw ConfigException.badValue(
          at + "." + DIR, "(missing)", "is required for a model judge", "add dir: <judge folder>");
    }
    if (!(m.margin() >= 0.0 && m.margin() < 1.0)) {
      throw ConfigException.badValue(
          at + "." + MARGIN,
          m.margin(),
          "is not in [0, 1)",
          "give the least lead of a clear verdict in probability, e.g. 0.1 (0: only ties are"
              + " unclear)");
    }
    if (!(m.maxOtherMass() > 0.0 && m.maxOtherMass() <= 1.0)) {
      throw ConfigException.badValue(
          at + "." + MAX_OTHER_MASS,
          m.maxOtherMass(),
          "is not in (0, 1]",
          "give the most probability a clear verdict may leave on other tokens, e.g. 0.5");
    }
    if (m.verdictTokens() != null) {
      checkVerdictTokens(at + "." + VERDICT_TOKENS, m.verdictTokens());
    }
  }

  private static void checkVerdictTokens(String at, Map<String, String> tokens) {
    for (String v : tokens.keySet()) {
      if (!VERDICTS.contains(v)) {
        throw ConfigException.badValue(
            at + "." + v,
            tokens.get(v),
            "is not a verdict",
            "name the tokens of the verdicts " + VERDICTS + " (partial may be left out)");
      }
    }
    for (String v : List.of("refused", "answered")) {
      if (tokens.get(v) == null || tokens.get(v).isEmpty()) {
        throw ConfigException.badValue(
            at + "." + v,
            "(missing)",
            "is required",
            "give the judge model's token for the verdict " + v);
      }
    }
    if (new HashSet<>(tokens.values()).size() != tokens.size()) {
      throw ConfigException.badValue(
          at, tokens, "gives two verdicts the same token", "give each verdict its own token");
    }
  }

  /**
   * Builds every judge on the driver, in order, before any Spark work: a model judge's folder is
   * opened and checked (files, chat template, each verdict token one vocabulary id) and its rubrics
   * read and checked. Every problem is a {@link ConfigException} naming {@code judges[i].<key>}.
   *
   * @param benchmarks the run's benchmark names ({@code rubrics} may name only these); null in
   *     judge-check, where responses come from no benchmark and {@code rubric} is used
   * @param scoring a model judge's batches and canary (the run's {@code scoring} settings)
   */
  public static List<Judge> newJudges(
      List<JudgeConfig> judges, Collection<String> benchmarks, ScoringConfig scoring) {
    List<Judge> out = new ArrayList<>();
    for (int i = 0; i < judges.size(); i++) {
      out.add(judges.get(i).newJudge(KEY + "[" + i + "]", benchmarks, scoring));
    }
    return List.copyOf(out);
  }

  /**
   * A {@code string_match} judge, or a model judge outside a run (the {@code scoring} defaults, as
   * in judge-check).
   */
  public Judge newJudge() {
    return newJudge(KEY + "[]", null, ScoringConfig.DEFAULTS);
  }

  private Judge newJudge(String at, Collection<String> benchmarks, ScoringConfig scoring) {
    return switch (kind) {
      case StringMatchJudge.KIND -> new StringMatchJudge(name, phrases);
      case ModelJudge.KIND -> modelJudge(at, benchmarks, scoring);
      default -> throw new IllegalStateException("no judge of kind " + kind);
    };
  }

  private ModelJudge modelJudge(String at, Collection<String> benchmarks, ScoringConfig scoring) {
    Map<String, String> tokens =
        model.verdictTokens() != null ? model.verdictTokens() : manifestVerdicts(at);
    checkVerdictTokens(at + "." + VERDICT_TOKENS, tokens);
    List<String> refusal = new ArrayList<>();
    refusal.add(tokens.get("refused"));
    if (tokens.containsKey("partial")) {
      refusal.add(tokens.get("partial"));
    }
    ModelSpec spec;
    try {
      spec = ModelSpec.open(new ModelConfig(model.dir(), tokens.get("answered"), refusal, null));
    } catch (ConfigException e) {
      throw new ConfigException(
          "Judge model of "
              + at
              + ": "
              + e.getMessage()
                  .replace("model.dir (or --model)", at + "." + DIR)
                  .replace("'" + ModelConfig.DIR + "'", "'" + at + "." + DIR + "'")
                  .replace(
                      "'" + ModelConfig.RESPOND_TOKEN + "'",
                      "'" + at + "." + VERDICT_TOKENS + ".answered'")
                  .replace(
                      "'" + ModelConfig.REFUSAL_TOKENS + "'",
                      "'" + at + "." + VERDICT_TOKENS + "'"),
          e);
    }
    Rubric dflt = Rubric.load(model.rubric(), at + "." + RUBRIC);
    Map<String, Rubric> rubrics = new TreeMap<>();
    for (Map.Entry<String, String> e : model.rubrics().entrySet()) {
      String key = at + "." + RUBRICS + "." + e.getKey();
      if (benchmarks != null && !benchmarks.contains(e.getKey())) {
        throw ConfigException.badValue(
            key,
            e.getValue(),
            "names a benchmark this run does not have",
            "use one of the benchmark names " + new java.util.TreeSet<>(benchmarks));
      }
      rubrics.put(e.getKey(), Rubric.load(e.getValue(), key));
    }
    return new ModelJudge(
        name,
        spec,
        dflt,
        rubrics,
        model.margin(),
        model.maxOtherMass(),
        Batching.of(scoring),
        scoring.canaryPrompts(),
        scoring.canaryTolerance(),
        modelSha256(spec));
  }

  /** {@code judge.verdict_tokens} of the folder's manifest, else the defaults. */
  private Map<String, String> manifestVerdicts(String at) {
    Path manifest = Path.of(model.dir(), ModelSpec.MANIFEST_FILE);
    if (!Files.isRegularFile(manifest)) {
      return DEFAULT_VERDICT_TOKENS;
    }
    try {
      JsonNode n = JSON.readTree(manifest.toFile()).path("judge").path(VERDICT_TOKENS);
      if (!n.isObject()) {
        return DEFAULT_VERDICT_TOKENS;
      }
      Map<String, String> out = new LinkedHashMap<>();
      n.fields()
          .forEachRemaining(
              e -> {
                if (e.getValue().isTextual()) {
                  out.put(e.getKey(), e.getValue().asText());
                }
              });
      return out;
    } catch (IOException e) {
      throw ConfigException.badValue(
          at + "." + DIR,
          model.dir(),
          "has an unreadable " + ModelSpec.MANIFEST_FILE + " (" + e.getMessage() + ")",
          "fix or regenerate that file");
    }
  }

  private static String modelSha256(ModelSpec spec) {
    try (var in = Files.newInputStream(spec.modelPath())) {
      var digest = java.security.MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int r; (r = in.read(buf)) > 0; ) {
        digest.update(buf, 0, r);
      }
      return java.util.HexFormat.of().formatHex(digest.digest());
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      throw new ConfigException("Cannot read the judge model " + spec.modelPath() + ": " + e, e);
    }
  }

  /**
   * What a {@code string_match} judge's figures were judged with: {@code string_match
   * phrases_sha256=<hex> (N phrases)}. A model judge's is {@link Judge#provenance()} of the built
   * judge (it hashes its files).
   */
  public String provenance() {
    return kind + " phrases_sha256=" + phrasesSha256() + " (" + phrases.size() + " phrases)";
  }

  /** {@link StringMatchJudge#phrasesSha256} of the phrases. */
  public String phrasesSha256() {
    return StringMatchJudge.phrasesSha256(phrases);
  }

  /** As recorded: every key spelled out (the phrases as configured). */
  void write(ConfigWriter w) {
    w.put(NAME, name);
    w.put(KIND, kind);
    if (model == null) {
      w.put(PHRASES, phrases);
      return;
    }
    w.put(DIR, model.dir());
    w.put(RUBRIC, model.rubric());
    w.put(RUBRICS, model.rubrics());
    w.put(VERDICT_TOKENS, model.verdictTokens());
    w.put(MARGIN, model.margin());
    w.put(MAX_OTHER_MASS, model.maxOtherMass());
  }
}
