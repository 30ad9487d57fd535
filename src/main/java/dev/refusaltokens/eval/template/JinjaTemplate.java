package dev.refusaltokens.eval.template;

import dev.refusaltokens.eval.template.Nodes.Stmt;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A jinja2 template rendered as Hugging Face renders chat templates: jinja2's immutable sandbox
 * with {@code trim_blocks}, {@code lstrip_blocks} and loop controls, HF's {@code tojson}, {@code
 * raise_exception} and {@code strftime_now}. Python semantics throughout (truthiness, string
 * methods, {@code str()} of values), so the output is byte-identical to transformers' {@code
 * apply_chat_template} for the templates the tests cover.
 *
 * <p>Anything it does not implement exactly is a {@link TemplateException}, at parse time where
 * possible, never a guess. The sandbox is closed by construction: a template sees only the values
 * passed in and the builtins of {@link Builtins}; there is no path to Java objects, reflection,
 * files, the environment or the network. Every rendering is bounded in steps, time, string size and
 * call depth.
 *
 * <p>Parsed once, immutable, safe to render from many threads.
 */
public final class JinjaTemplate {

  private final List<Stmt> body;
  private final Render.Limits limits;
  private final Clock clock;

  private JinjaTemplate(List<Stmt> body, Render.Limits limits, Clock clock) {
    this.body = body;
    this.limits = limits;
    this.clock = clock;
  }

  /** Parses a template; syntax errors and unsupported tags, filters and tests fail here. */
  public static JinjaTemplate parse(String source) {
    try {
      return new JinjaTemplate(
          Parser.parse(source), Render.Limits.DEFAULT, Clock.systemDefaultZone());
    } catch (StackOverflowError e) { // jinja2's recursive parser gives up too (RecursionError)
      throw new TemplateException(
          TemplateException.Kind.LIMIT, "The chat template nests too deeply");
    }
  }

  /** The same template with another clock for {@code strftime_now} (tests pin the date). */
  public JinjaTemplate withClock(Clock newClock) {
    return new JinjaTemplate(body, limits, newClock);
  }

  /**
   * The same template with other bounds: steps, milliseconds, characters per string, call depth.
   */
  public JinjaTemplate withLimits(
      long maxSteps, long timeoutMillis, int maxStringChars, int maxDepth) {
    return new JinjaTemplate(
        body, new Render.Limits(maxSteps, timeoutMillis, maxStringChars, maxDepth), clock);
  }

  /**
   * Renders with the given variables (strings, numbers, booleans, null, lists and maps of those:
   * the JSON value model). Throws {@link TemplateException} on any failure.
   */
  public String render(Map<String, ?> variables) {
    return renderIn(variables, new Render.Scope(null));
  }

  /**
   * The names this rendering with {@code variables} looked up and found neither among them nor
   * among the builtins, in the order met (jinja2 prints such a name as an empty string): a caller
   * that knows every field a template may use checks a template with it. Only the branches this
   * rendering takes are seen.
   */
  public Set<String> undefinedNames(Map<String, ?> variables) {
    Render.Scope globals = new Render.Scope(null);
    renderIn(variables, globals);
    return java.util.Collections.unmodifiableSet(new LinkedHashSet<>(globals.undefinedNames));
  }

  private String renderIn(Map<String, ?> variables, Render.Scope globals) {
    Render r = new Render(limits, clock);
    globals.vars.putAll(globals(clock));
    variables.forEach((k, v) -> globals.vars.put(k, Py.fromJava(v)));
    Render.Scope scope = new Render.Scope(globals);
    StringBuilder out = new StringBuilder();
    try {
      Nodes.renderAll(body, r, scope, out);
    } catch (Nodes.LoopControl c) {
      throw new TemplateException(
          TemplateException.Kind.SYNTAX, "{% break %} or {% continue %} outside a loop");
    } catch (StackOverflowError e) {
      throw new TemplateException(
          TemplateException.Kind.LIMIT, "The chat template nests too deeply");
    }
    return out.toString();
  }

  private static Map<String, Object> globals(Clock clock) {
    Map<String, Object> g = new LinkedHashMap<>();
    g.put("range", (Py.Callable) (r, args, kw) -> range(args));
    g.put("self", Py.TemplateReference.SELF);
    g.put(
        "namespace",
        (Py.Callable)
            (r, args, kw) -> {
              Py.Namespace ns = new Py.Namespace();
              for (Object a : args) {
                if (!(a instanceof Map<?, ?> m)) {
                  throw TemplateException.runtime(
                      "namespace() takes mappings or keyword arguments");
                }
                m.forEach((k, v) -> ns.attrs.put(Py.str(k), v));
              }
              ns.attrs.putAll(kw);
              return ns;
            });
    g.put(
        "dict",
        (Py.Callable)
            (r, args, kw) -> {
              Map<Object, Object> d = new LinkedHashMap<>();
              for (Object a : args) {
                if (!(a instanceof Map<?, ?> m)) {
                  throw TemplateException.unsupported("dict() of a " + Py.typeName(a));
                }
                d.putAll(m);
              }
              d.putAll(kw);
              return d;
            });
    g.put(
        "raise_exception",
        (Py.Callable)
            (r, args, kw) -> {
              throw new TemplateException(
                  TemplateException.Kind.RUNTIME,
                  "the chat template raised an exception: "
                      + (args.isEmpty() ? "" : Py.str(args.get(0))));
            });
    g.put(
        "strftime_now",
        (Py.Callable)
            (r, args, kw) -> {
              if (args.size() != 1 || !(args.get(0) instanceof String fmt)) {
                throw TemplateException.runtime("strftime_now takes one format string");
              }
              return Strftime.format(fmt, ZonedDateTime.now(clock));
            });
    for (String name : List.of("lipsum", "cycler", "joiner")) {
      g.put(
          name,
          (Py.Callable)
              (r, args, kw) -> {
                throw TemplateException.unsupported("the global function " + name + "()");
              });
    }
    return g;
  }

  private static Object range(List<Object> args) {
    if (args.isEmpty() || args.size() > 3) {
      throw TemplateException.runtime("range expected 1 to 3 arguments, got " + args.size());
    }
    long[] a = new long[args.size()];
    for (int i = 0; i < a.length; i++) {
      Object v = args.get(i);
      if (!(v instanceof Long || v instanceof Boolean)) {
        throw TemplateException.runtime(
            "'" + Py.typeName(v) + "' object cannot be interpreted as an integer");
      }
      a[i] = Py.toLong(v);
    }
    long start = a.length == 1 ? 0 : a[0];
    long stop = a.length == 1 ? a[0] : a[1];
    long step = a.length == 3 ? a[2] : 1;
    if (step == 0) {
      throw TemplateException.runtime("range() arg 3 must not be zero");
    }
    long n =
        step > 0
            ? Math.max(0, (stop - start + step - 1) / step)
            : Math.max(0, (start - stop - step - 1) / -step);
    if (n > Builtins.MAX_RANGE) {
      throw new TemplateException(
          TemplateException.Kind.LIMIT,
          "Range too big. The sandbox blocks ranges "
              + "larger than MAX_RANGE ("
              + Builtins.MAX_RANGE
              + ").");
    }
    List<Object> items = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      items.add(start + i * step);
    }
    String printed =
        "range(" + start + ", " + stop + (a.length == 3 && step != 1 ? ", " + step : "") + ")";
    return new Py.View(items, printed, "range");
  }
}
