package dev.refusaltokens.eval.table;

import org.apache.spark.sql.Row;

/**
 * A typed row of one table (or of a stage's intermediate rows). The record owns its schema as a
 * {@code SCHEMA} constant, builds its {@link Row} by column name ({@link RowBuilder}) and reads one
 * back by column name in a static {@code fromRow}; nothing else builds or reads its rows by
 * position.
 */
public interface TableRecord {

  /** This record as a row of its schema, every column set by name. */
  Row toRow();
}
