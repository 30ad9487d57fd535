package dev.refusaltokens.eval.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.refusaltokens.eval.judge.Judge;
import dev.refusaltokens.eval.judge.StringMatchJudge;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One judge of responses, declared under {@code judges}: its name, its kind and that kind's
 * settings. Only {@code string_match} exists so far (docs/judges.md).
 *
 * @param name the judge's name in the tables (unique); defaults to the kind
 * @param kind {@code string_match}
 * @param phrases the refusal openings of a {@code string_match} judge (the configured spelling;
 *     matched in canonical form, see {@link StringMatchJudge})
 */
public record JudgeConfig(String name, String kind, List<String> phrases) implements Serializable {

  /** The list of judges, each a mapping of the keys below. */
  public static final String KEY = "judges";

  public static final String NAME = "name";
  public static final String KIND = "kind";
  public static final String PHRASES = "phrases";

  /** The kinds there are. */
  public static final List<String> KINDS = List.of(StringMatchJudge.KIND);

  private static final Pattern NAME_PATTERN = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  /** One string-match judge with the default phrases. */
  public static final List<JudgeConfig> DEFAULTS =
      List.of(
          new JudgeConfig(
              StringMatchJudge.KIND, StringMatchJudge.KIND, StringMatchJudge.DEFAULT_PHRASES));

  public JudgeConfig {
    check(KEY + "[]", name, kind, phrases);
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
            "write each judge as {name: …, kind: string_match, phrases: […]}");
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
    List.of(NAME, KIND, PHRASES).forEach(item::raw);
    item.rejectUnknownKeys(" (" + at + ")");
    String kind = item.string(KIND, null);
    String name = item.string(NAME, kind);
    List<String> phrases = phrases(item, at, kind);
    check(at, name, kind, phrases);
    return new JudgeConfig(name, kind, phrases);
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
  private static void check(String at, String name, String kind, List<String> phrases) {
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

  /** The judge these settings describe (cheap; serializable, for executors). */
  public Judge newJudge() {
    return switch (kind) {
      case StringMatchJudge.KIND -> new StringMatchJudge(name, phrases);
      default -> throw new IllegalStateException("no judge of kind " + kind);
    };
  }

  /**
   * What a judged figure was judged with, recorded next to it: {@code string_match
   * phrases_sha256=<hex> (N phrases)}.
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
    w.put(PHRASES, phrases);
  }
}
