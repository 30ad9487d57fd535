package dev.refusaltokens.eval.template;

import dev.refusaltokens.eval.template.Lexer.Kind;
import dev.refusaltokens.eval.template.Lexer.Seg;
import dev.refusaltokens.eval.template.Lexer.Tok;
import dev.refusaltokens.eval.template.Lexer.Type;
import dev.refusaltokens.eval.template.Nodes.Expr;
import dev.refusaltokens.eval.template.Nodes.FilterCall;
import dev.refusaltokens.eval.template.Nodes.Stmt;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * jinja2's grammar, as far as chat templates use it, with jinja2's operator precedence. Statements
 * and names this renderer does not implement fail here, when the template is loaded, not while
 * rendering.
 */
final class Parser {

  private static final Set<String> LOADING_TAGS =
      Set.of("include", "import", "from", "extends", "block");
  private static final Set<String> OTHER_JINJA_TAGS =
      Set.of("call", "with", "autoescape", "do", "trans", "pluralize", "endcall", "endwith");

  private final List<Seg> segs;
  private int si;
  private List<Tok> toks;
  private int ti;

  private Parser(List<Seg> segs) {
    this.segs = segs;
  }

  static List<Stmt> parse(String source) {
    Parser p = new Parser(Lexer.lex(source));
    List<Stmt> body = new ArrayList<>();
    String end = p.body(body, Set.of());
    if (end != null) {
      throw p.syntax("unexpected '" + end + "'");
    }
    return body;
  }

  /**
   * Parses statements into {@code out} until a block tag named in {@code ends}; returns that name.
   */
  private String body(List<Stmt> out, Set<String> ends) {
    while (si < segs.size()) {
      Seg seg = segs.get(si++);
      if (seg.kind() == Kind.DATA) {
        out.add(new Nodes.Text(seg.text()));
        continue;
      }
      toks = seg.toks();
      ti = 0;
      if (seg.kind() == Kind.VAR) {
        out.add(new Nodes.Output(tupleOrExpr(), seg.line()));
        expectEnd();
        continue;
      }
      Tok head = next();
      if (head.type() != Type.NAME) {
        throw syntax("a block tag must start with a name");
      }
      String name = head.text();
      if (ends.contains(name)) {
        return name;
      }
      out.add(statement(name, seg.line()));
    }
    if (!ends.isEmpty()) {
      throw syntax("unexpected end of template: expected one of " + ends);
    }
    return null;
  }

  private Stmt statement(String name, int line) {
    switch (name) {
      case "if":
        return ifStmt(line);
      case "for":
        return forStmt(line);
      case "set":
        return setStmt(line);
      case "macro":
        return macro();
      case "filter":
        {
          List<FilterCall> filters = filterChain(true);
          expectEnd();
          List<Stmt> body = new ArrayList<>();
          closeBlock(body, "endfilter");
          return new Nodes.FilterBlock(filters, body, line);
        }
      case "generation":
        {
          expectEnd();
          List<Stmt> body = new ArrayList<>();
          closeBlock(body, "endgeneration");
          return new Nodes.Generation(body);
        }
      case "break":
      case "continue":
        expectEnd();
        return new Nodes.Break(name.equals("break"));
      default:
        if (LOADING_TAGS.contains(name)) {
          throw TemplateException.security(
              "{% "
                  + name
                  + " %} would load another template; a chat template "
                  + "is rendered alone, with no access to other files (line "
                  + line
                  + ")");
        }
        if (OTHER_JINJA_TAGS.contains(name)) {
          throw TemplateException.unsupported("the {% " + name + " %} tag (line " + line + ")");
        }
        throw syntax("unknown tag '" + name + "'");
    }
  }

  private void closeBlock(List<Stmt> body, String end) {
    body(body, Set.of(end));
    expectEnd();
  }

  private Stmt ifStmt(int line) {
    List<Expr> tests = new ArrayList<>();
    List<List<Stmt>> bodies = new ArrayList<>();
    List<Stmt> orElse = new ArrayList<>();
    tests.add(tupleOrExpr());
    expectEnd();
    while (true) {
      List<Stmt> body = new ArrayList<>();
      String end = body(body, Set.of("elif", "else", "endif"));
      bodies.add(body);
      if (end.equals("elif")) {
        tests.add(tupleOrExpr());
        expectEnd();
      } else if (end.equals("else")) {
        expectEnd();
        closeBlock(orElse, "endif");
        break;
      } else {
        expectEnd();
        break;
      }
    }
    return new Nodes.If(tests, bodies, orElse, line);
  }

  private Stmt forStmt(int line) {
    List<String> targets = names();
    expectName("in");
    Expr iter = condExpr(false);
    Expr filter = null;
    if (peek().is("if")) {
      next();
      filter = condExpr(true);
    }
    if (peek().is("recursive")) {
      throw TemplateException.unsupported("a recursive for loop (line " + line + ")");
    }
    expectEnd();
    List<Stmt> body = new ArrayList<>();
    List<Stmt> orElse = new ArrayList<>();
    String end = body(body, Set.of("else", "endfor"));
    expectEnd();
    if (end.equals("else")) {
      closeBlock(orElse, "endfor");
    }
    return new Nodes.For(targets, iter, filter, body, orElse, line);
  }

  private Stmt setStmt(int line) {
    List<String> targets = names();
    String attr = null;
    if (targets.size() == 1 && peek().is(".")) {
      next();
      attr = expectName();
    }
    if (peek().is("=")) {
      next();
      Expr value = tupleOrExpr();
      expectEnd();
      return new Nodes.Set(targets, attr, value, line);
    }
    List<FilterCall> filters = peek().is("|") ? filterChain(false) : List.of();
    expectEnd();
    List<Stmt> body = new ArrayList<>();
    closeBlock(body, "endset");
    return new Nodes.SetBlock(targets, attr, body, filters, line);
  }

  private Stmt macro() {
    String name = expectName();
    expectOp("(");
    List<String> params = new ArrayList<>();
    List<Expr> defaults = new ArrayList<>();
    while (!peek().is(")")) {
      if (!params.isEmpty()) {
        expectOp(",");
        if (peek().is(")")) {
          break;
        }
      }
      params.add(expectName());
      if (peek().is("=")) {
        next();
        defaults.add(expression());
      } else {
        defaults.add(null);
      }
    }
    expectOp(")");
    expectEnd();
    List<Stmt> body = new ArrayList<>();
    closeBlock(body, "endmacro");
    return new Nodes.MacroDef(name, params, defaults, body);
  }

  private List<String> names() {
    List<String> out = new ArrayList<>();
    boolean paren = peek().is("(");
    if (paren) {
      next();
    }
    out.add(expectName());
    while (peek().is(",")) {
      next();
      if (peek().type() != Type.NAME) {
        break;
      }
      out.add(expectName());
    }
    if (paren) {
      expectOp(")");
    }
    return out;
  }

  // ---- expressions, by jinja2's precedence ----

  /**
   * {@code a, b} without brackets is a tuple (as in {@code {{ a, b }}} or {@code set x = 1, 2}).
   */
  private Expr tupleOrExpr() {
    Expr first = expression();
    if (!peek().is(",")) {
      return first;
    }
    List<Expr> items = new ArrayList<>(List.of(first));
    while (peek().is(",")) {
      next();
      if (peek().type() == Type.END || peek().is(")")) {
        break;
      }
      items.add(expression());
    }
    return new Nodes.ListLit(items, true);
  }

  private Expr expression() {
    return condExpr(true);
  }

  private Expr condExpr(boolean withCondExpr) {
    Expr expr = or();
    while (withCondExpr && peek().is("if")) {
      next();
      Expr test = or();
      Expr orElse = null;
      if (peek().is("else")) {
        next();
        orElse = condExpr(true);
      }
      expr = new Nodes.CondExpr(test, expr, orElse);
    }
    return expr;
  }

  private Expr or() {
    Expr left = and();
    while (peek().is("or")) {
      next();
      left = new Nodes.Logic(false, left, and());
    }
    return left;
  }

  private Expr and() {
    Expr left = not();
    while (peek().is("and")) {
      next();
      left = new Nodes.Logic(true, left, not());
    }
    return left;
  }

  private Expr not() {
    if (peek().is("not")) {
      next();
      return new Nodes.Unary("not", not());
    }
    return compare();
  }

  private Expr compare() {
    Expr first = math1();
    List<String> ops = new ArrayList<>();
    List<Expr> rest = new ArrayList<>();
    while (true) {
      Tok t = peek();
      if (t.type() == Type.OP && Set.of("==", "!=", "<", "<=", ">", ">=").contains(t.text())) {
        next();
        ops.add(t.text());
      } else if (t.is("in")) {
        next();
        ops.add("in");
      } else if (t.is("not") && peekAt(1).is("in")) {
        next();
        next();
        ops.add("not in");
      } else {
        break;
      }
      rest.add(math1());
    }
    return ops.isEmpty() ? first : new Nodes.Compare(first, ops, rest);
  }

  private Expr math1() {
    Expr left = concat();
    while (peek().is("+") || peek().is("-")) {
      String op = next().text();
      left = new Nodes.Binary(op, left, concat());
    }
    return left;
  }

  private Expr concat() {
    Expr left = math2();
    while (peek().is("~")) {
      next();
      left = new Nodes.Binary("~", left, math2());
    }
    return left;
  }

  private Expr math2() {
    Expr left = pow();
    while (peek().is("*") || peek().is("/") || peek().is("//") || peek().is("%")) {
      String op = next().text();
      left = new Nodes.Binary(op, left, pow());
    }
    return left;
  }

  private Expr pow() {
    Expr left = unary(true);
    while (peek().is("**")) {
      next();
      left = new Nodes.Binary("**", left, unary(true));
    }
    return left;
  }

  private Expr unary(boolean withFilter) {
    Expr node;
    if (peek().is("-") || peek().is("+")) {
      String op = next().text();
      node = new Nodes.Unary(op, unary(false));
    } else {
      node = postfix(primary());
    }
    return withFilter ? filterExpr(node) : node;
  }

  private Expr primary() {
    Tok t = next();
    switch (t.type()) {
      case NAME:
        switch (t.text()) {
          case "true":
          case "True":
            return new Nodes.Const(Boolean.TRUE);
          case "false":
          case "False":
            return new Nodes.Const(Boolean.FALSE);
          case "none":
          case "None":
            return new Nodes.Const(null);
          default:
            return new Nodes.Name(t.text());
        }
      case STRING:
        {
          StringBuilder sb = new StringBuilder((String) t.value());
          while (peek().type() == Type.STRING) { // adjacent literals concatenate
            sb.append((String) next().value());
          }
          return new Nodes.Const(sb.toString());
        }
      case INT:
      case FLOAT:
        return new Nodes.Const(t.value());
      case OP:
        if (t.is("(")) {
          if (peek().is(")")) {
            next();
            return new Nodes.ListLit(List.of(), true);
          }
          Expr inner = tupleOrExpr();
          expectOp(")");
          return inner;
        } else if (t.is("[")) {
          List<Expr> items = new ArrayList<>();
          while (!peek().is("]")) {
            if (!items.isEmpty()) {
              expectOp(",");
              if (peek().is("]")) {
                break;
              }
            }
            items.add(expression());
          }
          expectOp("]");
          return new Nodes.ListLit(items, false);
        } else if (t.is("{")) {
          List<Expr> keys = new ArrayList<>();
          List<Expr> values = new ArrayList<>();
          while (!peek().is("}")) {
            if (!keys.isEmpty()) {
              expectOp(",");
              if (peek().is("}")) {
                break;
              }
            }
            keys.add(expression());
            expectOp(":");
            values.add(expression());
          }
          expectOp("}");
          return new Nodes.DictLit(keys, values);
        }
        throw syntax("unexpected '" + t.text() + "'");
      default:
        throw syntax("unexpected end of expression");
    }
  }

  private Expr postfix(Expr node) {
    while (true) {
      if (peek().is(".")) {
        next();
        Tok t = next();
        if (t.type() == Type.NAME) {
          node = new Nodes.Attr(node, t.text());
        } else if (t.type() == Type.INT) {
          node = new Nodes.Item(node, new Nodes.Const(t.value()));
        } else {
          throw syntax("expected a name after '.'");
        }
      } else if (peek().is("[")) {
        next();
        node = subscript(node);
      } else if (peek().is("(")) {
        next();
        node = call(node);
      } else {
        return node;
      }
    }
  }

  private Expr subscript(Expr target) {
    Expr[] parts = new Expr[3];
    int part = 0;
    boolean slice = false;
    while (!peek().is("]")) {
      if (peek().is(":")) {
        next();
        slice = true;
        if (++part > 2) {
          throw syntax("too many ':' in a slice");
        }
        continue;
      }
      parts[part] = expression();
      if (!peek().is(":") && !peek().is("]")) {
        throw syntax("expected ':' or ']' in a subscript");
      }
    }
    expectOp("]");
    if (!slice) {
      if (parts[0] == null) {
        throw syntax("empty subscript");
      }
      return new Nodes.Item(target, parts[0]);
    }
    return new Nodes.Slice(target, parts[0], parts[1], parts[2]);
  }

  private Expr call(Expr fn) {
    List<Expr> args = new ArrayList<>();
    Map<String, Expr> kwargs = new LinkedHashMap<>();
    callArgs(args, kwargs);
    return new Nodes.Call(fn, args, kwargs);
  }

  /** Arguments after an opening '(' up to and including ')'. */
  private void callArgs(List<Expr> args, Map<String, Expr> kwargs) {
    boolean first = true;
    while (!peek().is(")")) {
      if (!first) {
        expectOp(",");
        if (peek().is(")")) {
          break;
        }
      }
      first = false;
      if (peek().is("*") || peek().is("**")) {
        throw TemplateException.unsupported("*args / **kwargs in a call");
      }
      if (peek().type() == Type.NAME && peekAt(1).is("=")) {
        String k = next().text();
        next();
        kwargs.put(k, expression());
      } else {
        if (!kwargs.isEmpty()) {
          throw syntax("positional argument after keyword argument");
        }
        args.add(expression());
      }
    }
    expectOp(")");
  }

  private Expr filterExpr(Expr node) {
    while (true) {
      if (peek().is("|")) {
        for (FilterCall f : filterChain(false)) {
          node = new Nodes.Filter(node, f);
        }
      } else if (peek().is("is")) {
        next();
        boolean negated = false;
        if (peek().is("not")) {
          next();
          negated = true;
        }
        String name = expectName();
        while (peek().is(".")) { // dotted test names are not a thing in chat templates
          throw syntax("unexpected '.' in test name");
        }
        List<Expr> args = new ArrayList<>();
        if (peek().is("(")) {
          next();
          Map<String, Expr> kwargs = new LinkedHashMap<>();
          callArgs(args, kwargs);
          if (!kwargs.isEmpty()) {
            throw TemplateException.unsupported("keyword arguments to a test");
          }
        } else if (startsTestArgument(peek())) {
          args.add(postfix(primary()));
        }
        Builtins.checkTest(name);
        node = new Nodes.Test(node, name, args, negated);
      } else {
        return node;
      }
    }
  }

  private static boolean startsTestArgument(Tok t) {
    if (t.type() == Type.STRING || t.type() == Type.INT || t.type() == Type.FLOAT) {
      return true;
    }
    if (t.type() == Type.NAME) {
      return !Set.of("else", "or", "and", "if", "is", "in", "not").contains(t.text());
    }
    return t.is("[") || t.is("{");
  }

  /**
   * One or more {@code |name(args)}; {@code leading} when the first filter has no '|' before it.
   */
  private List<FilterCall> filterChain(boolean leading) {
    List<FilterCall> out = new ArrayList<>();
    boolean first = true;
    while (first && leading || peek().is("|")) {
      if (!(first && leading)) {
        next();
      }
      first = false;
      String name = expectName();
      List<Expr> args = new ArrayList<>();
      Map<String, Expr> kwargs = new LinkedHashMap<>();
      if (peek().is("(")) {
        next();
        callArgs(args, kwargs);
      }
      Builtins.checkFilter(name);
      out.add(new FilterCall(name, args, kwargs));
    }
    return out;
  }

  // ---- token helpers ----

  private Tok peek() {
    return toks.get(ti);
  }

  private Tok peekAt(int k) {
    return toks.get(Math.min(ti + k, toks.size() - 1));
  }

  private Tok next() {
    Tok t = toks.get(ti);
    if (t.type() != Type.END) {
      ti++;
    }
    return t;
  }

  private String expectName() {
    Tok t = next();
    if (t.type() != Type.NAME) {
      throw syntax("expected a name, found '" + t.text() + "'");
    }
    return t.text();
  }

  private void expectName(String name) {
    if (!next().is(name)) {
      throw syntax("expected '" + name + "'");
    }
  }

  private void expectOp(String op) {
    Tok t = next();
    if (!(t.type() == Type.OP && t.text().equals(op))) {
      throw syntax(
          "expected '"
              + op
              + "', found '"
              + (t.type() == Type.END ? "end of tag" : t.text())
              + "'");
    }
  }

  private void expectEnd() {
    if (peek().type() != Type.END) {
      throw syntax("unexpected '" + peek().text() + "' before the end of the tag");
    }
  }

  private TemplateException syntax(String message) {
    int line = toks != null && !toks.isEmpty() ? toks.get(Math.min(ti, toks.size() - 1)).line() : 0;
    return new TemplateException(TemplateException.Kind.SYNTAX, message + " (line " + line + ")");
  }
}
