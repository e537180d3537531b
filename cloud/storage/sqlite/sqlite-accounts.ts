/** SQLite repositories of people and their keys: drivers and their tokens, plate links and disputes, operator keys. */
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
import { str, num, toAccount, toDriver, toLink, toDispute, toKey, toMethod } from '../rows.js';
import { Statements } from './sqlite-statements.js';

/** active links with a session in lot ?1 not closed or begun at ?2 or later (by the sessions' plate index) */
const LINKS_PARKED_AT = `SELECT * FROM plate_links l WHERE l.removed_at IS NULL AND EXISTS (
  SELECT 1 FROM parking_sessions s WHERE s.plate = l.plate AND s.lot_id = ? AND (s.status != 'closed' OR s.entry_at >= ?)
) ORDER BY l.id`;

export class SqliteDrivers implements DriverRepository {
  constructor(private readonly db: Statements) {}
  async insert(d: Driver) {
    this.db
      .prepare('INSERT INTO drivers (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(d.id, d.email, d.name, d.passwordHash, d.createdAt);
  }
  async byId(id: string) {
    return toDriver(this.db.prepare('SELECT * FROM drivers WHERE id = ?').get(id) as Row | undefined);
  }
  async byEmail(email: string) {
    return toDriver(this.db.prepare('SELECT * FROM drivers WHERE email = ?').get(email) as Row | undefined);
  }
  async insertToken(t: { tokenHash: string; driverId: string; expiresAt: number }) {
    this.db
      .prepare('INSERT INTO driver_tokens (token_hash, driver_id, expires_at) VALUES (?, ?, ?)')
      .run(t.tokenHash, t.driverId, t.expiresAt);
  }
  async tokenByHash(hash: string) {
    const r = this.db.prepare('SELECT * FROM driver_tokens WHERE token_hash = ?').get(hash) as Row | undefined;
    return r ? { tokenHash: str(r.token_hash), driverId: str(r.driver_id), expiresAt: num(r.expires_at) } : null;
  }
  async deleteExpiredTokens(now: number) {
    this.db.prepare('DELETE FROM driver_tokens WHERE expires_at <= ?').run(now);
  }
  async deleteToken(hash: string) {
    this.db.prepare('DELETE FROM driver_tokens WHERE token_hash = ?').run(hash);
  }
  async deleteTokensOfDriver(driverId: string) {
    this.db.prepare('DELETE FROM driver_tokens WHERE driver_id = ?').run(driverId);
  }
}

export class SqliteLinks implements LinkRepository {
  constructor(private readonly db: Statements) {}
  async insert(l: PlateLink) {
    this.db
      .prepare(
        'INSERT INTO plate_links (id, plate, account_id, driver_id, created_at, removed_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(l.id, l.plate, l.accountId, l.driverId, l.createdAt, l.removedAt);
  }
  async byId(id: string) {
    return toLink(this.db.prepare('SELECT * FROM plate_links WHERE id = ?').get(id) as Row | undefined);
  }
  async activeByPlate(plate: string) {
    return toLink(
      this.db.prepare('SELECT * FROM plate_links WHERE plate = ? AND removed_at IS NULL').get(plate) as Row | undefined,
    );
  }
  async payerOfPlate(plate: string): Promise<Payer | null> {
    const link = await this.activeByPlate(plate);
    if (!link) return null;
    const account = this.db.prepare('SELECT * FROM payment_accounts WHERE id = ?').get(link.accountId) as
      Row | undefined;
    const method = this.db
      .prepare('SELECT * FROM saved_payment_methods WHERE account_id = ? AND removed_at IS NULL')
      .get(link.accountId) as Row | undefined;
    return { link, account: toAccount(account), method: toMethod(method) };
  }
  async activeOfDriver(driverId: string) {
    const rows = this.db
      .prepare('SELECT * FROM plate_links WHERE driver_id = ? AND removed_at IS NULL ORDER BY created_at, id')
      .all(driverId) as Row[];
    return rows.map((r) => toLink(r)!);
  }
  async activeParkedAt(lotId: string, since: number) {
    return (this.db.prepare(LINKS_PARKED_AT).all(lotId, since) as Row[]).map((r) => toLink(r)!);
  }
  async remove(id: string, at: number) {
    this.db.prepare('UPDATE plate_links SET removed_at = ? WHERE id = ? AND removed_at IS NULL').run(at, id);
  }
  async insertDispute(d: PlateDispute) {
    this.db
      .prepare(
        `INSERT INTO plate_disputes (id, plate, claimant_driver_id, claimant_account_id, holder_link_id, reason, status, created_at, resolved_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        d.id,
        d.plate,
        d.claimantDriverId,
        d.claimantAccountId,
        d.holderLinkId,
        d.reason,
        d.status,
        d.createdAt,
        d.resolvedAt,
      );
  }
  async disputeById(id: string) {
    return toDispute(this.db.prepare('SELECT * FROM plate_disputes WHERE id = ?').get(id) as Row | undefined);
  }
  async disputes(status?: PlateDispute['status']) {
    const rows = (
      status
        ? this.db.prepare('SELECT * FROM plate_disputes WHERE status = ? ORDER BY created_at, id').all(status)
        : this.db.prepare('SELECT * FROM plate_disputes ORDER BY created_at, id').all()
    ) as Row[];
    return rows.map((r) => toDispute(r)!);
  }
  async resolveDispute(id: string, status: PlateDispute['status'], at: number) {
    this.db.prepare('UPDATE plate_disputes SET status = ?, resolved_at = ? WHERE id = ?').run(status, at, id);
  }
}

export class SqliteOperators implements OperatorRepository {
  constructor(private readonly db: Statements) {}
  async insertKey(k: OperatorKey) {
    this.db
      .prepare(
        'INSERT INTO operator_keys (id, key_hash, role, label, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(k.id, k.keyHash, k.role, k.label, k.createdAt, k.revokedAt);
  }
  async keyByHash(hash: string) {
    return toKey(this.db.prepare('SELECT * FROM operator_keys WHERE key_hash = ?').get(hash) as Row | undefined);
  }
  async keys() {
    return (this.db.prepare('SELECT * FROM operator_keys ORDER BY created_at, id').all() as Row[]).map((r) =>
      toKey(r)!,
    );
  }
  async revokeKey(id: string, at: number) {
    this.db.prepare('UPDATE operator_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
  }
}
