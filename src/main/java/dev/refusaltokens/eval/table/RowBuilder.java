package dev.refusaltokens.eval.table;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructType;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Builds one row of a schema by column name. Every column must be set exactly once, and only
 * columns of the schema: a record and its schema cannot drift apart unnoticed. Java lists and maps
 * become the Scala collections Spark's row encoders expect.
 */
public final class RowBuilder {

  private final StructType schema;
  private final Object[] values;
  private final boolean[] set;

  private RowBuilder(StructType schema) {
    this.schema = schema;
    this.values = new Object[schema.size()];
    this.set = new boolean[schema.size()];
  }

  public static RowBuilder of(StructType schema) {
    return new RowBuilder(schema);
  }

  public RowBuilder set(String column, Object value) {
    int i = index(column);
    if (set[i]) {
      throw new IllegalStateException("column '" + column + "' set twice in a row of " + names());
    }
    set[i] = true;
    values[i] = toSpark(value);
    return this;
  }

  public Row build() {
    for (int i = 0; i < set.length; i++) {
      if (!set[i]) {
        throw new IllegalStateException(
            "column '" + schema.fields()[i].name() + "' not set in a row of " + names());
      }
    }
    return new GenericRowWithSchema(values, schema);
  }

  /**
   * The column's position: one lookup in the schema's name index (rows are built in executors' hot
   * loops).
   */
  private int index(String column) {
    Option<Object> i = schema.getFieldIndex(column);
    if (i.isEmpty()) {
      throw new IllegalArgumentException("no column '" + column + "' in " + names());
    }
    return (Integer) i.get();
  }

  private String names() {
    return Arrays.toString(schema.fieldNames());
  }

  private static Object toSpark(Object value) {
    if (value instanceof Map<?, ?> m) {
      return CollectionConverters.asScala(m);
    }
    if (value instanceof List<?> l) {
      return CollectionConverters.asScala(l).toSeq();
    }
    return value;
  }
}
