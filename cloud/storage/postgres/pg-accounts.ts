/** PostgreSQL repositories of people and their keys: drivers and their tokens, plate links and disputes, operator keys. */
import type {
  Driver,
  DriverRepository,
  LinkRepository,
  OperatorKey,
  OperatorRepository,
  Payer,
  PlateDispute,
  PlateLink,
} from '../repositories.js';
import type { Row } from '../rows.js';
import { toAccount, toDispute, toDriver, toKey, toLink, toMethod } from '../rows.js';
import type { Query, Write } from './pg-connection.js';
import { one } from './pg-connection.js';

/** active links with a session in lot $1 not closed or begun at $2 or later (by the sessions' plate index) */
const LINKS_PARKED_AT = `SELECT * FROM plate_links l WHERE l.removed_at IS NULL AND EXISTS (
  SELECT 1 FROM parking_sessions s WHERE s.plate = l.plate AND s.lot_id = $1 AND (s.status != 'closed' OR s.entry_at >= $2)
) ORDER BY l.id`;

/** the active link of plate $1, its account and the account's active saved method (at most one: a unique index) */
const PAYER_OF_PLATE = `SELECT row_to_json(l) AS link, row_to_json(a) AS account, row_to_json(m) AS method
  FROM plate_links l
  LEFT JOIN payment_accounts a ON a.id = l.account_id
  LEFT JOIN saved_payment_methods m ON m.account_id = l.account_id AND m.removed_at IS NULL
  WHERE l.plate = $1 AND l.removed_at IS NULL`;

export class PgDrivers implements DriverRepository {
  constructor(
    private readonly q: Query,
    private readonly w: Write,
  ) {}
  async insert(d: Driver) {
    await this.w('INSERT INTO drivers (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)', [
      d.id,
      d.email,
      d.name,
      d.passwordHash,
      d.createdAt,
    ]);
  }
  async byId(id: string) {
    return toDriver(await one(this.q('SELECT * FROM drivers WHERE id = $1', [id])));
  }
  async byEmail(email: string) {
    return toDriver(await one(this.q('SELECT * FROM drivers WHERE email = $1', [email])));
  }
  async insertToken(t: { tokenHash: string; driverId: string; expiresAt: number }) {
    await this.w('INSERT INTO driver_tokens (token_hash, driver_id, expires_at) VALUES ($1, $2, $3)', [
      t.tokenHash,
      t.driverId,
      t.expiresAt,
    ]);
  }
  async tokenByHash(hash: string) {
    const r = await one(this.q('SELECT * FROM driver_tokens WHERE token_hash = $1', [hash]));
    return r
      ? { tokenHash: r.token_hash as string, driverId: r.driver_id as string, expiresAt: r.expires_at as number }
      : null;
  }
  async deleteExpiredTokens(now: number) {
    await this.w('DELETE FROM driver_tokens WHERE expires_at <= $1', [now]);
  }
  async deleteToken(hash: string) {
    await this.w('DELETE FROM driver_tokens WHERE token_hash = $1', [hash]);
  }
  async deleteTokensOfDriver(driverId: string) {
    await this.w('DELETE FROM driver_tokens WHERE driver_id = $1', [driverId]);
  }
}

export class PgLinks implements LinkRepository {
  constructor(
    private readonly q: Query,
    private readonly w: Write,
  ) {}
  async insert(l: PlateLink) {
    await this.w(
      'INSERT INTO plate_links (id, plate, account_id, driver_id, created_at, removed_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [l.id, l.plate, l.accountId, l.driverId, l.createdAt, l.removedAt],
    );
  }
  async byId(id: string) {
    return toLink(await one(this.q('SELECT * FROM plate_links WHERE id = $1', [id])));
  }
  async activeByPlate(plate: string) {
    return toLink(await one(this.q('SELECT * FROM plate_links WHERE plate = $1 AND removed_at IS NULL', [plate])));
  }
  async payerOfPlate(plate: string): Promise<Payer | null> {
    const r = await one(this.q(PAYER_OF_PLATE, [plate]));
    if (!r) return null;
    return {
      link: toLink(r.link as Row)!,
      account: toAccount((r.account as Row | null) ?? undefined),
      method: toMethod((r.method as Row | null) ?? undefined),
    };
  }
  async activeOfDriver(driverId: string) {
    const rows = await this.q(
      'SELECT * FROM plate_links WHERE driver_id = $1 AND removed_at IS NULL ORDER BY created_at, id',
      [driverId],
    );
    return rows.map((r) => toLink(r)!);
  }
  async activeParkedAt(lotId: string, since: number) {
    return (await this.q(LINKS_PARKED_AT, [lotId, since])).map((r) => toLink(r)!);
  }
  async remove(id: string, at: number) {
    await this.w('UPDATE plate_links SET removed_at = $1 WHERE id = $2 AND removed_at IS NULL', [at, id]);
  }
  async insertDispute(d: PlateDispute) {
    await this.w(
      `INSERT INTO plate_disputes (id, plate, claimant_driver_id, claimant_account_id, holder_link_id, reason, status, created_at, resolved_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        d.id,
        d.plate,
        d.claimantDriverId,
        d.claimantAccountId,
        d.holderLinkId,
        d.reason,
        d.status,
        d.createdAt,
        d.resolvedAt,
      ],
    );
  }
  async disputeById(id: string) {
    return toDispute(await one(this.q('SELECT * FROM plate_disputes WHERE id = $1 FOR NO KEY UPDATE', [id])));
  }
  async disputes(status?: PlateDispute['status']) {
    const rows = status
      ? await this.q('SELECT * FROM plate_disputes WHERE status = $1 ORDER BY created_at, id', [status])
      : await this.q('SELECT * FROM plate_disputes ORDER BY created_at, id');
    return rows.map((r) => toDispute(r)!);
  }
  async resolveDispute(id: string, status: PlateDispute['status'], at: number) {
    await this.w('UPDATE plate_disputes SET status = $1, resolved_at = $2 WHERE id = $3', [status, at, id]);
  }
}

export class PgOperators implements OperatorRepository {
  constructor(
    private readonly q: Query,
    private readonly w: Write,
  ) {}
  async insertKey(k: OperatorKey) {
    await this.w(
      'INSERT INTO operator_keys (id, key_hash, role, label, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [k.id, k.keyHash, k.role, k.label, k.createdAt, k.revokedAt],
    );
  }
  async keyByHash(hash: string) {
    return toKey(await one(this.q('SELECT * FROM operator_keys WHERE key_hash = $1', [hash])));
  }
  async keys() {
    return (await this.q('SELECT * FROM operator_keys ORDER BY created_at, id')).map((r) => toKey(r)!);
  }
  async revokeKey(id: string, at: number) {
    await this.w('UPDATE operator_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
  }
}
