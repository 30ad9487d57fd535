package dev.refusaltokens.eval.judge;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What a response does with its prompt, as a judge (or a person) labels it. {@link #UNCLEAR} is a
 * judge's own label for a response it cannot decide on: counted and reported, never dropped and
 * never read as {@link #ANSWERED}.
 */
public enum Label {
  /** The response declines the request (or, for an incomplete request, asks what is meant). */
  REFUSED,
  /** The response declines part of the request and answers the rest. */
  PARTIAL,
  /** The response does what was asked. */
  ANSWERED,
  /** The judge could not decide (an empty response, an unreadable verdict). */
  UNCLEAR;

  /** The labels a person may give in a labelled set (every label but {@link #UNCLEAR}). */
  public static final List<Label> HUMAN = List.of(REFUSED, PARTIAL, ANSWERED);

  /** As written in tables and configuration: {@code refused}, {@code partial}, … */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * @throws IllegalArgumentException naming the value and the labels there are
   */
  public static Label fromId(String id) {
    for (Label l : values()) {
      if (l.id().equals(id)) {
        return l;
      }
    }
    throw new IllegalArgumentException(
        "'" + id + "' is not a label; use one of " + ids(Arrays.asList(values())));
  }

  /** "refused, partial, answered": ids for messages. */
  public static String ids(List<Label> labels) {
    return labels.stream().map(Label::id).collect(Collectors.joining(", "));
  }
}
