/**
 * What the PostgreSQL store, its repositories and its ledger share: the
 * type parsers (BIGINT as numbers), how a URL is told to be PostgreSQL's,
 * and the query function repositories run inside a transaction. It imports
 * none of them, so none of them import each other in a circle.
 */
import pg from 'pg';
import type { Row } from '../rows.js';

/** int8 (COUNT, BIGINT columns) and numeric (SUM of BIGINT) as JS numbers: every value here is below 2^53. */
export const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

/** true for a URL that selects PostgreSQL */
export const isPostgresUrl = (database: string): boolean => /^postgres(ql)?:\/\//i.test(database);

/** Runs one statement of one transaction attempt and resolves with its rows. */
export type Query = (sql: string, params?: unknown[]) => Promise<Row[]>;

/**
 * Queues a write (INSERT, UPDATE, DELETE) of one transaction attempt whose rows nobody needs: it is
 * sent with the writes after it, before the attempt's next read or its COMMIT (pg-statements.ts).
 */
export type Write = (sql: string, params?: unknown[]) => Promise<void>;

export const one = async (rows: Promise<Row[]>): Promise<Row | undefined> => (await rows)[0];
