package dev.refusaltokens.eval.table;

import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;

/**
 * Reads the columns of a row by name, for the records' {@code fromRow}. A missing column fails with
 * its name and the row's columns; a null stays null (boxed getters).
 */
public final class RowReader {

  private final Row row;

  private RowReader(Row row) {
    this.row = row;
  }

  public static RowReader of(Row row) {
    if (row.schema() == null) {
      throw new IllegalArgumentException(
          "a row without a schema cannot be read by column name: " + row);
    }
    return new RowReader(row);
  }

  public boolean has(String column) {
    return row.schema().getFieldIndex(column).isDefined();
  }

  public boolean isNull(String column) {
    return row.isNullAt(index(column));
  }

  public String string(String column) {
    return row.getString(index(column));
  }

  public Long boxedLong(String column) {
    int i = index(column);
    return row.isNullAt(i) ? null : row.getLong(i);
  }

  public long longValue(String column) {
    return row.getLong(index(column));
  }

  public Integer boxedInt(String column) {
    int i = index(column);
    return row.isNullAt(i) ? null : row.getInt(i);
  }

  public int intValue(String column) {
    return row.getInt(index(column));
  }

  public Double boxedDouble(String column) {
    int i = index(column);
    return row.isNullAt(i) ? null : row.getDouble(i);
  }

  public double doubleValue(String column) {
    return row.getDouble(index(column));
  }

  public boolean booleanValue(String column) {
    return row.getBoolean(index(column));
  }

  public Boolean boxedBoolean(String column) {
    int i = index(column);
    return row.isNullAt(i) ? null : row.getBoolean(i);
  }

  public Instant instant(String column) {
    int i = index(column);
    return row.isNullAt(i) ? null : row.getTimestamp(i).toInstant();
  }

  public <T> List<T> list(String column) {
    int i = index(column);
    return row.isNullAt(i) ? null : List.copyOf(row.<T>getList(i));
  }

  /** A map column as a view of the row's map (no copy): for hot loops that only look values up. */
  public <K, V> Map<K, V> mapView(String column) {
    int i = index(column);
    return row.isNullAt(i) ? null : row.<K, V>getJavaMap(i);
  }

  /** A map column as a sorted copy (a record's field; equal maps compare equal). */
  public <K, V> Map<K, V> sortedMap(String column) {
    Map<K, V> view = mapView(column);
    return view == null ? null : new TreeMap<>(view);
  }

  public Row struct(String column) {
    return row.getStruct(index(column));
  }

  public List<Row> structs(String column) {
    return row.getList(index(column));
  }

  private int index(String column) {
    scala.Option<Object> i = row.schema().getFieldIndex(column);
    if (i.isEmpty()) {
      throw new IllegalArgumentException(
          "no column '" + column + "' in a row of " + Arrays.toString(row.schema().fieldNames()));
    }
    return (Integer) i.get();
  }
}
