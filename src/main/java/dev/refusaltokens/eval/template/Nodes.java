package dev.refusaltokens.eval.template;

import dev.refusaltokens.eval.template.Render.Scope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The parsed template: statements render into a buffer, expressions evaluate to Python values. */
final class Nodes {

  private Nodes() {}

  interface Stmt {
    void render(Render r, Scope s, StringBuilder out);
  }

  interface Expr {
    Object eval(Render r, Scope s);
  }

  static void renderAll(List<Stmt> body, Render r, Scope s, StringBuilder out) {
    for (Stmt st : body) {
      st.render(r, s, out);
    }
  }

  /** Evaluates expressions left to right (arguments, list items), as Python does. */
  static List<Object> evalAll(List<Expr> exprs, Render r, Scope s) {
    List<Object> out = new ArrayList<>(exprs.size());
    for (Expr e : exprs) {
      out.add(e.eval(r, s));
    }
    return out;
  }

  static void append(Render r, StringBuilder out, String text) {
    r.checkSize((long) out.length() + text.length());
    out.append(text);
  }

  // ---- statements ----

  record Text(String text) implements Stmt {
    @Override
    public void render(Render r, Scope s, StringBuilder out) {
      append(r, out, text);
    }
  }

  record Output(Expr expr, int line) implements Stmt {
    @Override
    public void render(Render r, Scope s, StringBuilder out) {
      try {
        append(r, out, Py.str(expr.eval(r, s)));
      } catch (TemplateException e) {
        throw atLine(e, line);
      }
    }
  }

  static TemplateException atLine(TemplateException e, int line) {
    if (e.getMessage().contains("(template line ")) {
      return e;
    }
    return new TemplateException(e.kind(), e.getMessage() + " (template line " + line + ")");
  }

  record If(List<Expr> tests, List<List<Stmt>> bodies, List<Stmt> orElse, int line)
      implements Stmt {
    @Override
    public void render(Render r, Scope s, StringBuilder out) {
      for (int i = 0; i < tests.size(); i++) {
        boolean hit;
        try {
          r.step();
          hit = Py.truthy(tests.get(i).eval(r, s));
        } catch (TemplateException e) {
          throw atLine(e, line);
        }
        if (hit) {
          renderAll(bodies.get(i), r, s, out);
          return;
        }
      }
      renderAll(orElse, r, s, out);
    }
  }

  /** Thrown by {@code {% break %}} and {@code {% continue %}}; no stack trace. */
  static final class LoopControl extends RuntimeException {
    final boolean isBreak;

    LoopControl(boolean isBreak) {
      super(null, null, false, false);
      this.isBreak = isBreak;
    }
  }

  record Break(boolean isBreak) implements Stmt {
    @Override
    public void render(Render r, Scope s, StringBuilder out) {
      throw new LoopControl(isBreak);
    }
  }

  record For(
      List<String> targets, Expr iter, Expr filter, List<Stmt> body, List<Stmt> orElse, int line)
      implements Stmt {
    @Override
    public void render(Render r, Scope s, StringBuilder out) {
      List<Object> all;
      List<Object> items;
      List<Boolean> kept = new ArrayList<>();
      Py.Gen gen = null;
      try {
        Object it = iter.eval(r, s);
        gen = it instanceof Py.Gen g ? g : null;
        all = gen != null ? gen.begin() : Py.iterate(it);
        items = new ArrayList<>();
        for (Object item : all) {
          kept.add(filter == null || passes(r, s, item));
          if (kept.get(kept.size() - 1)) {
            items.add(item);
          }
        }
      } catch (TemplateException e) {
        throw atLine(e, line);
      }
      if (items.isEmpty()) {
        if (gen != null) {
          gen.end(true);
        }
        renderAll(orElse, r, s, out);
        return;
      }
      boolean toTheEnd = true;
      int i = 0;
      for (int k = 0; k < all.size(); k++) {
        if (filter != null && k > 0 && passesNow(r, s, all.get(k)) != kept.get(k)) {
          // jinja2 tests each item when the loop reaches it, after the body ran for the previous
          // ones
          throw atLine(
              TemplateException.unsupported("a loop filter whose result the loop body changes"),
              line);
        }
        if (!kept.get(k)) {
          continue;
        }
        r.step();
        Scope iteration = new Scope(s);
        bind(iteration, items.get(i));
        iteration.vars.put("loop", new Builtins.Loop(items, i));
        try {
          renderAll(body, r, iteration, out);
        } catch (LoopControl c) {
          if (c.isBreak) {
            toTheEnd = k == all.size() - 1;
            break;
          }
        }
        i++;
      }
      if (gen != null) {
        gen.end(toTheEnd);
      }
    }

    private boolean passes(Render r, Scope s, Object item) {
      Scope probe = new Scope(s);
      bind(probe, item);
      return Py.truthy(filter.eval(r, probe));
    }

    private boolean passesNow(Render r, Scope s, Object item) {
      try {
        return passes(r, s, item);
      } catch (TemplateException e) {
        throw atLine(e, line);
      }
    }

    private void bind(Scope scope, Object item) {
      if (targets.size() == 1) {
        scope.vars.put(targets.get(0), item);
        return;
      }
      unpack(targets, item, scope);
    }
  }

  static void unpack(List<String> targets, Object value, Scope scope) {
    if (value instanceof String
        || value instanceof Py.Markup
        || value instanceof Map
        || value instanceof Py.Gen) {
      throw TemplateException.unsupported(
          "unpacking a " + Py.typeName(value) + " into " + targets.size() + " names");
    }
    if (!(value instanceof List<?> l) || l.size() != targets.size()) {
      throw TemplateException.runtime(
          "cannot unpack " + Py.typeName(value) + " into " + targets.size() + " names");
    }
    for (int i = 0; i < targets.size(); i++) {
      scope.vars.put(targets.get(i), l.get(i));
    }
  }

  /** {@code {% set x = … %}}, {@code {% set a, b = … %}} or {@code {% set ns.attr = … %}}. */
  record Set(List<String> targets, String attr, Expr value, int line) implements Stmt {
    @Override
    public void render(Render r, Scope s, StringBuilder out) {
      try {
        r.step();
        assign(r, s, targets, attr, value.eval(r, s));
      } catch (TemplateException e) {
        throw atLine(e, line);
      }
    }
  }

  static void assign(Render r, Scope s, List<String> targets, String attr, Object value) {
    if (attr != null) {
      Object ns = s.lookup(targets.get(0));
      if (!(ns instanceof Py.Namespace n)) {
        throw TemplateException.security("cannot assign attribute on non-namespace object");
      }
      n.attrs.put(attr, value);
    } else if (targets.size() == 1) {
      s.vars.put(targets.get(0), value);
    } else {
      unpack(targets, value, s);
    }
  }

  /** {@code {% set x %}…{% endset %}}, optionally through filters. */
  record SetBlock(
      List<String> targets, String attr, List<Stmt> body, List<FilterCall> filters, int line)
      implements Stmt {
    @Override
    public void render(Render r, Scope s, StringBuilder out) {
      Object value = renderFiltered(body, filters, line, r, s);
      try {
        assign(r, s, targets, attr, value);
      } catch (TemplateException e) {
        throw atLine(e, line);
      }
    }
  }

  /**
   * A block's body rendered to a string, then passed through its filters (set and filter blocks).
   */
  static Object renderFiltered(
      List<Stmt> body, List<FilterCall> filters, int line, Render r, Scope s) {
    StringBuilder buf = new StringBuilder();
    renderAll(body, r, s, buf);
    try {
      Object value = buf.toString();
      for (FilterCall f : filters) {
        value = f.apply(r, s, value);
      }
      return value;
    } catch (TemplateException e) {
      throw atLine(e, line);
    }
  }

  /** {@code {% filter f %}…{% endfilter %}}. */
  record FilterBlock(List<FilterCall> filters, List<Stmt> body, int line) implements Stmt {
    @Override
    public void render(Render r, Scope s, StringBuilder out) {
      append(r, out, Py.str(renderFiltered(body, filters, line, r, s)));
    }
  }

  /**
   * transformers' {@code {% generation %}} tag: marks assistant text for masks, renders its body.
   */
  record Generation(List<Stmt> body) implements Stmt {
    @Override
    public void render(Render r, Scope s, StringBuilder out) {
      renderAll(body, r, s, out);
    }
  }

  record MacroDef(String name, List<String> params, List<Expr> defaults, List<Stmt> body)
      implements Stmt {
    @Override
    public void render(Render r, Scope s, StringBuilder out) {
      s.vars.put(name, new Macro(this, s));
    }
  }

  /** A defined macro: a closure over the scope it was defined in, as jinja2's macros are. */
  record Macro(MacroDef def, Scope closure) implements Py.Callable {
    @Override
    public Object call(Render r, List<Object> args, Map<String, Object> kwargs) {
      if (args.size() > def.params.size()) {
        throw TemplateException.unsupported(
            "calling macro '" + def.name + "' with more arguments than it " + "declares (varargs)");
      }
      for (String k : kwargs.keySet()) {
        if (!def.params.contains(k)) {
          throw TemplateException.unsupported(
              "calling macro '"
                  + def.name
                  + "' with the undeclared keyword "
                  + "argument '"
                  + k
                  + "' (kwargs)");
        }
      }
      r.enter();
      try {
        Scope scope = new Scope(closure);
        scope.vars.put(
            "varargs", new Py.Tuple(List.of())); // what jinja2 binds when none are passed
        scope.vars.put("kwargs", new LinkedHashMap<>());
        // every parameter is bound before any default is evaluated: a default that names a later,
        // not passed parameter sees it undefined, as in jinja2
        for (int i = 0; i < def.params.size(); i++) {
          String p = def.params.get(i);
          scope.vars.put(
              p,
              i < args.size()
                  ? args.get(i)
                  : kwargs.containsKey(p)
                      ? kwargs.get(p)
                      : new Py.Undefined("parameter '" + p + "' was not provided"));
        }
        for (int i = args.size(); i < def.params.size(); i++) {
          String p = def.params.get(i);
          if (!kwargs.containsKey(p) && def.defaults.get(i) != null) {
            scope.vars.put(p, def.defaults.get(i).eval(r, scope));
          }
        }
        StringBuilder buf = new StringBuilder();
        renderAll(def.body, r, scope, buf);
        return buf.toString();
      } finally {
        r.exit();
      }
    }
  }

  // ---- expressions ----

  record Const(Object value) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      return value;
    }
  }

  record Name(String name) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      return s.lookup(name);
    }
  }

  record Attr(Expr target, String name) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      r.step();
      return Builtins.getattr(target.eval(r, s), name);
    }
  }

  record Item(Expr target, Expr key) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      r.step();
      return Builtins.getitem(target.eval(r, s), key.eval(r, s));
    }
  }

  record Slice(Expr target, Expr start, Expr stop, Expr step) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      r.step();
      Object t = target.eval(r, s);
      Object a0 = start == null ? null : start.eval(r, s);
      Object b0 = stop == null ? null : stop.eval(r, s);
      Object c0 = step == null ? null : step.eval(r, s);
      if (t instanceof Py.Undefined u) {
        throw u.error();
      } else if (t instanceof Py.View v && v.isRange()) {
        throw TemplateException.unsupported("slicing a range");
      } else if (!(t instanceof String || t instanceof Py.Markup || t instanceof List)
          || t instanceof Py.View) {
        // jinja2 compiles a slice to obj[a:b:c] directly (not through getitem): a TypeError, not
        // Undefined
        throw TemplateException.runtime("'" + Py.typeName(t) + "' object is not subscriptable");
      } else if (!isIndex(a0) || !isIndex(b0) || !isIndex(c0)) {
        throw TemplateException.runtime(
            "slice indices must be integers or None or have an __index__ method");
      }
      Long a = a0 == null ? null : Py.toLong(a0);
      Long b = b0 == null ? null : Py.toLong(b0);
      Long c = c0 == null ? null : Py.toLong(c0);
      if (t instanceof Py.Markup m) {
        return new Py.Markup(Py.join(Py.sliceList(Py.codePoints(m.text()), a, b, c)));
      } else if (t instanceof String str) {
        return Py.join(Py.sliceList(Py.codePoints(str), a, b, c));
      } else if (t instanceof Py.Tuple tuple) {
        return new Py.Tuple(Py.sliceList(tuple, a, b, c));
      }
      return Py.sliceList((List<?>) t, a, b, c);
    }

    private static boolean isIndex(Object v) {
      return v == null || v instanceof Long || v instanceof Boolean;
    }
  }

  record Call(Expr fn, List<Expr> args, Map<String, Expr> kwargs) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      r.step();
      Object f = fn.eval(r, s);
      List<Object> a = evalAll(args, r, s);
      Map<String, Object> k = new LinkedHashMap<>();
      kwargs.forEach((name, e) -> k.put(name, e.eval(r, s)));
      if (f instanceof Py.Callable c) {
        return c.call(r, a, k);
      } else if (f instanceof Py.Undefined u) {
        throw u.error();
      }
      throw TemplateException.runtime("'" + Py.typeName(f) + "' object is not callable");
    }
  }

  /**
   * One filter application: {@code |name(args)}; the name is checked when the template is parsed.
   */
  record FilterCall(String name, List<Expr> args, Map<String, Expr> kwargs) {
    Object apply(Render r, Scope s, Object value) {
      r.step();
      List<Object> a = evalAll(args, r, s);
      Map<String, Object> k = new LinkedHashMap<>();
      kwargs.forEach((n, e) -> k.put(n, e.eval(r, s)));
      return Filters.filter(r, name, value, a, k);
    }
  }

  record Filter(Expr value, FilterCall call) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      return call.apply(r, s, value.eval(r, s));
    }
  }

  record Test(Expr value, String name, List<Expr> args, boolean negated) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      r.step();
      List<Object> a = evalAll(args, r, s);
      return Builtins.test(name, value.eval(r, s), a) != negated;
    }
  }

  record Unary(String op, Expr operand) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      Object v = operand.eval(r, s);
      if (op.equals("not")) {
        return !Py.truthy(v);
      }
      return Operators.unary(op, v);
    }
  }

  record Binary(String op, Expr left, Expr right) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      r.step();
      return Operators.binary(r, op, left.eval(r, s), right.eval(r, s));
    }
  }

  /** {@code a and b} / {@code a or b}: short-circuit, returning an operand as Python does. */
  record Logic(boolean isAnd, Expr left, Expr right) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      Object a = left.eval(r, s);
      if (Py.truthy(a) != isAnd) {
        return a;
      }
      return right.eval(r, s);
    }
  }

  /** A comparison chain {@code a < b <= c}, as Python evaluates it. */
  record Compare(Expr first, List<String> ops, List<Expr> rest) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      r.step();
      Object left = first.eval(r, s);
      for (int i = 0; i < ops.size(); i++) {
        Object right = rest.get(i).eval(r, s);
        if (!Operators.compare(ops.get(i), left, right)) {
          return false;
        }
        left = right;
      }
      return true;
    }
  }

  record CondExpr(Expr test, Expr then, Expr orElse) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      if (Py.truthy(test.eval(r, s))) {
        return then.eval(r, s);
      }
      return orElse == null
          ? new Py.Undefined(
              "the inline if-expression evaluated to false and no else " + "section was defined")
          : orElse.eval(r, s);
    }
  }

  record ListLit(List<Expr> items, boolean tuple) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      r.step();
      List<Object> out = evalAll(items, r, s);
      return tuple ? new Py.Tuple(out) : out;
    }
  }

  record DictLit(List<Expr> keys, List<Expr> values) implements Expr {
    @Override
    public Object eval(Render r, Scope s) {
      r.step();
      Map<Object, Object> out = new LinkedHashMap<>();
      for (int i = 0; i < keys.size(); i++) {
        Object k = keys.get(i).eval(r, s);
        if (k instanceof List<?> && !(k instanceof Py.Tuple) || k instanceof Map) {
          throw TemplateException.runtime("unhashable type: '" + Py.typeName(k) + "'");
        }
        out.put(Py.dictKey(out, k), values.get(i).eval(r, s));
      }
      return out;
    }
  }
}
