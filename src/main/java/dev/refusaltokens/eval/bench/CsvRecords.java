package dev.refusaltokens.eval.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Predicate;

/**
 * Splits CSV text into records as RFC 4180 defines them: a line break inside a quoted field belongs
 * to the field, so a record may span lines. A quoted field that is never closed — it runs to the
 * end of the file, or past {@value #MAX_RECORD_LINES} lines or {@value #MAX_RECORD_CHARS}
 * characters — makes only the record's first line a broken record, and splitting starts again on
 * the next line: one stray quote cannot swallow the rest of the file.
 *
 * <p>A quote opens a quoted field only at the start of a field; inside one, {@code ""} is a quote
 * character. A quote inside an unquoted field is an ordinary character here (the field parser then
 * judges the record). Line breaks inside a field are read as {@code \n}.
 */
public final class CsvRecords implements Iterator<CsvRecords.Record> {

  /** The most lines one record may span. */
  static final int MAX_RECORD_LINES = 10_000;

  /** The most characters one record may hold. */
  static final int MAX_RECORD_CHARS = 1 << 24;

  /**
   * One record: its text, the 1-based line it starts on, and why it is broken (null when it is
   * not).
   */
  public record Record(String text, long line, String problem) {}

  private record Line(String text, long number) {}

  private enum State {
    FIELD_START,
    UNQUOTED,
    QUOTED,
    QUOTE_IN_QUOTED
  }

  private final BufferedReader in;
  private final Deque<Line> pushedBack = new ArrayDeque<>();
  private long lastLine;
  private Record next;
  private Predicate<String> wellFormed = text -> true;

  public CsvRecords(BufferedReader in) {
    this.in = in;
  }

  /**
   * From the next record on, a record spanning lines counts only when {@code wellFormed} accepts
   * its text; otherwise its first line is a broken record and the next line is read again. The
   * loader asks only that the text reads as CSV: a quote that closes in a later line with text
   * right after it is a stray one, and the lines it took are records again. A record that reads,
   * whatever its number of fields, stays one record (one reject), so that no line from inside its
   * quoted field is ever scored as a prompt.
   */
  public void acceptWhen(Predicate<String> wellFormed) {
    this.wellFormed = wellFormed;
  }

  @Override
  public boolean hasNext() {
    if (next == null) {
      next = read();
    }
    return next != null;
  }

  @Override
  public Record next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    Record r = next;
    next = null;
    return r;
  }

  private Record read() {
    Line first = nextLine();
    if (first == null) {
      return null;
    }
    List<Line> lines = new ArrayList<>();
    lines.add(first);
    long chars = first.text().length();
    State state = scan(first.text(), State.FIELD_START);
    while (state == State.QUOTED) {
      Line more = lines.size() < MAX_RECORD_LINES && chars <= MAX_RECORD_CHARS ? nextLine() : null;
      if (more == null) {
        for (int i = lines.size() - 1; i >= 1; i--) {
          pushedBack.addFirst(lines.get(i)); // read again as records of their own
        }
        return new Record(
            first.text(),
            first.number(),
            "a quoted field opened on line "
                + first.number()
                + " is not closed "
                + (lines.size() < MAX_RECORD_LINES && chars <= MAX_RECORD_CHARS
                    ? "before the end of the file"
                    : "within " + MAX_RECORD_LINES + " lines or " + MAX_RECORD_CHARS + " chars")
                + "; the next line is read as a new record");
      }
      lines.add(more);
      chars += more.text().length() + 1;
      state = scan(more.text(), State.QUOTED);
    }
    if (lines.size() == 1) {
      return new Record(first.text(), first.number(), null);
    }
    StringBuilder text = new StringBuilder();
    for (Line l : lines) {
      text.append(text.isEmpty() ? "" : "\n").append(l.text());
    }
    if (!wellFormed.test(text.toString())) {
      for (int i = lines.size() - 1; i >= 1; i--) {
        pushedBack.addFirst(lines.get(i));
      }
      return new Record(
          first.text(),
          first.number(),
          "a quoted field opened on line "
              + first.number()
              + " closes on line "
              + lines.get(lines.size() - 1).number()
              + " in no well-formed record; the next line is read as a new record");
    }
    return new Record(text.toString(), first.number(), null);
  }

  /** The quoting state at the end of {@code line}, starting in {@code state}. */
  private static State scan(String line, State state) {
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      state =
          switch (state) {
            case FIELD_START ->
                c == '"' ? State.QUOTED : c == ',' ? State.FIELD_START : State.UNQUOTED;
            case UNQUOTED -> c == ',' ? State.FIELD_START : State.UNQUOTED;
            case QUOTED -> c == '"' ? State.QUOTE_IN_QUOTED : State.QUOTED;
            case QUOTE_IN_QUOTED ->
                c == '"' ? State.QUOTED : c == ',' ? State.FIELD_START : State.UNQUOTED;
          };
    }
    return state == State.QUOTE_IN_QUOTED ? State.UNQUOTED : state;
  }

  private Line nextLine() {
    if (!pushedBack.isEmpty()) {
      return pushedBack.removeFirst();
    }
    try {
      String text = in.readLine();
      return text == null ? null : new Line(text, ++lastLine);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
