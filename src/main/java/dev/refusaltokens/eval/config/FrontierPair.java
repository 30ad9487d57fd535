package dev.refusaltokens.eval.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * A frontier measured across two benchmarks: refusal rate on the should-refuse prompts of {@code
 * refusal}, false-refusal rate on the should-answer prompts of {@code answer}.
 */
public record FrontierPair(String refusal, String answer) implements Serializable {

  /** The list of pairs: mappings with the keys below. */
  public static final String KEY = "sweep.frontier_pairs";

  static final String REFUSAL = "refusal";
  static final String ANSWER = "answer";

  /**
   * {@code sweep.frontier_pairs}, each side checked against the configured benchmarks; null (the
   * default) when absent: every should-refuse × should-answer benchmark pair.
   */
  static List<FrontierPair> readAll(ConfigReader r, List<BenchmarkSpec> benchmarks) {
    if (!r.has(KEY)) {
      r.string(KEY, null); // marks an explicit null as read
      return null;
    }
    List<FrontierPair> pairs = new ArrayList<>();
    List<JsonNode> items = r.objectList(KEY, "{" + REFUSAL + ", " + ANSWER + "}");
    for (int i = 0; i < items.size(); i++) {
      String key = KEY + "[" + i + "]";
      ConfigReader item = r.item((ObjectNode) items.get(i), key + ".");
      FrontierPair pair = new FrontierPair(item.string(REFUSAL, null), item.string(ANSWER, null));
      item.rejectUnknownKeys();
      for (boolean refusal : new boolean[] {true, false}) {
        String side = refusal ? REFUSAL : ANSWER;
        String name = refusal ? pair.refusal() : pair.answer();
        if (name == null) {
          throw ConfigException.badValue(
              key + "." + side,
              null,
              "is missing",
              "give both refusal (a should-refuse benchmark) and answer (a should-answer benchmark)");
        }
        BenchmarkSpec b =
            benchmarks.stream()
                .filter(x -> x.name().equals(name))
                .findFirst()
                .orElseThrow(
                    () ->
                        ConfigException.badValue(
                            key + "." + side,
                            name,
                            "names a benchmark which is not configured",
                            "use names from benchmarks: "
                                + benchmarks.stream().map(BenchmarkSpec::name).toList()));
        if (!b.mayHave(refusal)) {
          throw ConfigException.badValue(
              key + "." + side,
              name,
              "is a should-" + (refusal ? "answer" : "refuse") + " benchmark",
              "refusal names a should-refuse benchmark, answer a should-answer one");
        }
      }
      pairs.add(pair);
    }
    return pairs;
  }

  void write(ConfigWriter w) {
    w.put(REFUSAL, refusal);
    w.put(ANSWER, answer);
  }
}
