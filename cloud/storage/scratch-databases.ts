/**
 * Throwaway PostgreSQL databases for tests and benchmarks: each gets a
 * random name under a caller's prefix on a server whose role may create
 * databases, and is dropped (its connections ended) by that name. Dropping
 * refuses any name that is not `<prefix><hex>`, so a wrong URL cannot drop a
 * real database.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** `server` (a postgres:// URL) with the database `name` */
export function withDatabase(server: string, name: string): string {
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
}

async function onServer(server: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** Creates `<prefix><12 hex>` on the server (a copy of `template` if given: nobody may be connected to it); returns its URL. */
export async function createScratchDatabase(server: string, prefix: string, template?: string): Promise<string> {
  const name = `${prefix}${randomBytes(6).toString('hex')}`;
  if (template !== undefined && !/^[a-z_][a-z0-9_]*$/.test(template))
    throw new Error(`not a database name: ${template}`);
  await onServer(server, `CREATE DATABASE ${name}${template === undefined ? '' : ` TEMPLATE ${template}`}`);
  return withDatabase(server, name);
}

/**
 * Drops the database at `url`, made by createScratchDatabase with `prefix`. Ends this role's
 * connections to it first, then drops it; PostgreSQL itself stops an autovacuum worker busy in it
 * (`WITH (FORCE)` would try to end that worker too, which a role without pg_signal_backend may not:
 * SQLSTATE 42501 after a test wrote enough rows to wake autovacuum). A connection that slips in
 * between is ended on the next of a few tries.
 */
export async function dropScratchDatabase(server: string, url: string, prefix: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!new RegExp(`^${prefix}[0-9a-f]+$`).test(name)) throw new Error(`not a ${prefix}* database: ${name}`);
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()',
        [name],
      );
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name}`);
        return;
      } catch (err) {
        // 55006: still in use (a connection came back, or autovacuum has not stopped yet)
        if ((err as { code?: string }).code !== '55006' || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await admin.end();
  }
}
