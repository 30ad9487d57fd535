package dev.refusaltokens.eval.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.refusaltokens.eval.template.TemplateException.Kind;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Templates come from model folders downloaded from the internet. Hostile ones must fail closed,
 * fast, with an error that says what happened: no reach into Java, files, the environment or the
 * network, and no unbounded time or memory.
 */
class ChatTemplateSandboxTest {

  private static final Map<String, Object> VARS =
      Map.of("messages", List.of(Map.of("role", "user", "content", "hi")));

  private static TemplateException failure(String source) {
    long start = System.nanoTime();
    try {
      JinjaTemplate.parse(source).render(VARS);
    } catch (TemplateException e) {
      assertThat((System.nanoTime() - start) / 1e9).as("fails fast").isLessThan(5.0);
      return e;
    }
    throw new AssertionError("the hostile template rendered: " + source);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{{ ''.getClass().forName('java.lang.Runtime') }}                     | RUNTIME  | has no attribute 'getClass'",
        "{{ messages.getClass() }}                                            | RUNTIME  | has no attribute 'getClass'",
        "{{ messages[0].getClass().getClassLoader() }}                        | RUNTIME  | has no attribute 'getClass'",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}                       | SECURITY | '__class__' of 'str' object is unsafe",
        "{{ range.__globals__ }}                                              | SECURITY | '__globals__'",
        "{{ namespace.__init__ }}                                             | SECURITY | '__init__'",
        "{% include '/etc/passwd' %}                                          | SECURITY | would load another template",
        "{% import 'macros.jinja' as m %}                                     | SECURITY | would load another template",
        "{% extends 'base.jinja' %}                                           | SECURITY | would load another template",
        "{{ open('/etc/passwd').read() }}                                     | RUNTIME  | 'open' is undefined",
        "{{ os.environ }}                                                     | RUNTIME  | 'os' is undefined",
        "{{ self._TemplateReference__context }}                               | SECURITY | unsafe",
        "{{ messages.append({'role': 'system', 'content': 'x'}) }}            | SECURITY | 'append' of 'list' object is unsafe",
        "{{ messages[0].update({'content': 'x'}) }}                           | SECURITY | 'update' of 'dict' object is unsafe",
        "{% set messages.x = 1 %}                                             | SECURITY | non-namespace"
      })
  void reachingOutsideTheSandboxFailsClosed(String source, Kind kind, String message) {
    TemplateException e = failure(source);
    assertThat(e.kind()).as(e.getMessage()).isEqualTo(kind);
    assertThat(e.getMessage()).contains(message);
  }

  @Test
  void theAttrFilterIsSandboxedToo() {
    TemplateException e = failure("{{ 'x' | attr('__class__') }}");
    assertThat(e.kind()).isEqualTo(Kind.SECURITY);
    assertThat(e.getMessage()).contains("'__class__' of 'str' object is unsafe");
  }

  @Test
  void aTemplateThatLoopsForeverHitsTheStepBound() {
    assertThatThrownBy(
            () ->
                JinjaTemplate.parse(
                        "{% for i in range(100000) %}{% for j in range(100000) %}"
                            + "{{ '' }}{% endfor %}{% endfor %}")
                    .withLimits(1_000_000, 60_000, 1 << 22, 64)
                    .render(VARS))
        .isInstanceOfSatisfying(
            TemplateException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.LIMIT);
              assertThat(e.getMessage()).contains("ran more than 1000000 evaluation steps");
            });
  }

  @Test
  void aSlowTemplateHitsTheTimeBound() {
    // Each step is cheap; a huge step budget leaves only the clock to stop it.
    long start = System.nanoTime();
    assertThatThrownBy(
            () ->
                JinjaTemplate.parse(
                        "{% for i in range(100000) %}{% for j in range(100000) %}"
                            + "{{ j }}{% endfor %}{% endfor %}")
                    .withLimits(Long.MAX_VALUE, 300, 1 << 30, 64)
                    .render(VARS))
        .isInstanceOfSatisfying(
            TemplateException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(Kind.LIMIT);
              assertThat(e.getMessage()).contains("longer than 300 ms");
            });
    assertThat((System.nanoTime() - start) / 1e6).isLessThan(3_000);
  }

  @Test
  void infiniteRecursionHitsTheDepthBound() {
    TemplateException e = failure("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    assertThat(e.kind()).isEqualTo(Kind.LIMIT);
    assertThat(e.getMessage()).contains("nested macro calls deeper than 64");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{{ 'a' * 1000000000 }}",
        "{{ [0] * 1000000000 }}",
        "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
        "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s | replace('a', 'aa') %}{% endfor %}",
        "{% for i in range(100000) %}{{ 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }}{% endfor %}",
        "{{ 'a' | center(2000000000) }}",
        "{{ 'a'.zfill(2000000000) }}",
        "{{ 'a'.ljust(2000000000, '.') }}",
        "{{ 'a\\nb' | indent(2000000000) }}",
        "{{ ('a\\n' * 1000000) | indent(100) }}",
        "{{ [[[1]]] | tojson(indent=2000000000) }}"
      })
  void aGiganticStringHitsTheSizeBoundBeforeItIsBuilt(String source) {
    TemplateException e = failure(source);
    assertThat(e.kind()).as(e.getMessage()).isEqualTo(Kind.LIMIT);
    assertThat(e.getMessage()).contains("characters");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{{ ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
            + "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
            + "1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))"
            + "))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))) }}"
      })
  void deepNestingIsALimitNotAStackOverflow(String shallow) {
    String deep = "{{ " + "(".repeat(50_000) + "1" + ")".repeat(50_000) + " }}";
    TemplateException e = failure(deep);
    assertThat(e.kind()).as(e.getMessage()).isEqualTo(Kind.LIMIT);
    assertThat(JinjaTemplate.parse(shallow).render(VARS)).isEqualTo("1");
  }

  @Test
  void aHugeIntegerPowerOfOneIsComputedBySquaring() {
    long start = System.nanoTime();
    assertThat(JinjaTemplate.parse("{{ 1 ** 999999999999999999 }}").render(VARS)).isEqualTo("1");
    assertThat((System.nanoTime() - start) / 1e9).isLessThan(5.0);
  }

  @Test
  void theSandboxRangeBoundIsJinja2s() {
    TemplateException e = failure("{{ range(100001) | length }}");
    assertThat(e.kind()).isEqualTo(Kind.LIMIT);
    assertThat(e.getMessage()).contains("MAX_RANGE (100000)");
  }

  /**
   * jinja2 prints {@code self} as {@code <TemplateReference None>}, an object's repr: refused like
   * printing a generator or a function, never rendered as "" (an Undefined would be).
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "{{ self }}",
        "{{ self | string }}",
        "{{ [self] }}",
        "{{ 'a' ~ self }}",
        "{% for m in messages %}{{ self }}{% endfor %}",
        "{% macro m() %}{{ self }}{% endmacro %}{{ m() }}"
      })
  void printingSelfIsRefusedNotRenderedEmpty(String source) {
    TemplateException e = failure(source);
    assertThat(e.kind()).as(e.getMessage()).isEqualTo(Kind.UNSUPPORTED);
    assertThat(e.getMessage()).contains("printing self").contains("TemplateReference");
  }

  /** What jinja2 3.1 renders for the uses of {@code self} that print nothing of it. */
  @Test
  void selfIsDefinedAndTrueWithUndefinedAttributesAsInJinja2() {
    assertThat(
            JinjaTemplate.parse(
                    "{{ self is defined }}{% if self %}y{% endif %}[{{ self.foo }}]"
                        + "{{ self is mapping }}")
                .render(VARS))
        .isEqualTo("Truey[]False");
    assertThat(JinjaTemplate.parse("{% set self = 1 %}{{ self }}").render(VARS)).isEqualTo("1");
  }

  @Test
  void javaObjectsPassedInAreRefusedNotExposed() {
    assertThatThrownBy(() -> JinjaTemplate.parse("{{ x }}").render(Map.of("x", new Object())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("java.lang.Object");
  }
}
