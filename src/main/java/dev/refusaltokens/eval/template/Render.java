package dev.refusaltokens.eval.template;

import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The state of one rendering: the clock {@code strftime_now} reads and the bounds a hostile
 * template hits — a step budget and a deadline (no template loops forever), a size bound on every
 * string built and on the output, and a call-depth bound (recursive macros).
 */
final class Render {

  /** Bounds of one rendering; the defaults leave real chat templates a wide margin. */
  record Limits(long maxSteps, long timeoutMillis, int maxStringChars, int maxDepth) {
    static final Limits DEFAULT = new Limits(5_000_000, 2_000, 4 << 20, 64);
  }

  /**
   * Variables: one scope per template, for-loop iteration and macro call, chained to the enclosing
   * one.
   */
  static final class Scope {
    final Scope parent;
    final Map<String, Object> vars = new HashMap<>();
    final Set<String> undefinedNames = new LinkedHashSet<>(); // filled in the outermost scope only

    Scope(Scope parent) {
      this.parent = parent;
    }

    Object lookup(String name) {
      Scope root = this;
      for (Scope s = this; s != null; s = s.parent) {
        if (s.vars.containsKey(name)) {
          return s.vars.get(name);
        }
        root = s;
      }
      root.undefinedNames.add(name);
      return new Py.Undefined("'" + name + "' is undefined");
    }
  }

  final Limits limits;
  final Clock clock;
  private final long deadline;
  private long steps;
  private int depth;

  Render(Limits limits, Clock clock) {
    this.limits = limits;
    this.clock = clock;
    this.deadline = System.nanoTime() + limits.timeoutMillis() * 1_000_000L;
  }

  /** Counts one evaluation step; checks the clock every 4096 steps. */
  void step() {
    steps++;
    if (steps > limits.maxSteps()) {
      throw limit("ran more than " + limits.maxSteps() + " evaluation steps");
    }
    if ((steps & 4095) == 0 && System.nanoTime() > deadline) {
      throw limit("ran longer than " + limits.timeoutMillis() + " ms");
    }
  }

  void enter() {
    if (++depth > limits.maxDepth()) {
      throw limit("nested macro calls deeper than " + limits.maxDepth());
    }
  }

  void exit() {
    depth--;
  }

  /** Every string a template builds goes through here before it is built. */
  void checkSize(long chars) {
    if (chars > limits.maxStringChars()) {
      throw limit(
          "built a string of "
              + chars
              + " characters (the bound is "
              + limits.maxStringChars()
              + ")");
    }
  }

  private static TemplateException limit(String what) {
    return new TemplateException(
        TemplateException.Kind.LIMIT,
        "The chat template stopped: it " + what + "; a real chat template needs far less");
  }
}
