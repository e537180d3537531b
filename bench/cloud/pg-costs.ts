/**
 * What one exit costs the PostgreSQL server, for the scale plan
 * (docs/scaling.md): WAL bytes written (from `pg_current_wal_lsn()` before
 * and after) and the server's CPU time (from /proc, summed over every
 * process named `postgres`, ended backends included through the
 * postmaster's children's times; readable only when the server runs on
 * this machine, else null). Both are the whole server's: other databases'
 * work in the same interval counts too, so measure on a quiet server.
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

/** The server's current WAL position, as a byte count. */
export async function walPosition(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS at");
    return Number((rows[0] as { at: string }).at);
  } finally {
    await client.end();
  }
}

/** CPU time (ms) of every `postgres` process on this machine so far, or null when none can be read. */
export function postgresCpuMs(): number | null {
  let ticks = 0;
  let found = false;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime: fields 14-17 of stat, in clock ticks (USER_HZ, 100 on Linux)
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      found = true;
    } catch {
      // the process ended meanwhile, or /proc is not Linux's
    }
  }
  return found ? ticks * 10 : null;
}
