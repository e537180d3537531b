/** The SQLite repositories' prepared statements, compiled once per SQL text and reused by every repository of one store. */
import Database from 'better-sqlite3';

/** The repositories' statements, compiled once per SQL text and reused (SQLite re-prepares them after a schema change). */
export class Statements {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(private readonly db: Database.Database) {}
  prepare(sql: string): Database.Statement {
    let statement = this.cache.get(sql);
    if (!statement) {
      if (this.cache.size >= 512) this.cache.clear(); // texts built for lists of varying length
      statement = this.db.prepare(sql);
      this.cache.set(sql, statement);
    }
    return statement;
  }
  /** the same, returning rows as arrays of column values (no per-row objects keyed by column name) */
  prepareRaw(sql: string): Database.Statement {
    let statement = this.raw.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql).raw(true);
      this.raw.set(sql, statement);
    }
    return statement;
  }
  private readonly raw = new Map<string, Database.Statement>();
}
