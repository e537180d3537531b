/**
 * The offline allowlist of each lot: what a gate may open for while it
 * cannot reach the cloud (docs/offline-allowlist.md has the why).
 *
 * A lot's list holds the plates it needs, no others: linked plates in good
 * standing (a saved payment method, or money in the wallet) that have a
 * session at this lot still open or begun within `recentStayMs` (regulars).
 * A plate that enters the lot is added at once (`admitArrival`), so that
 * the car can leave even if the cloud goes away while it is parked.
 *
 * Each entry is scrypt(plate, salt) (proto/v1/allowlist-entry.ts). The salt
 * is random, per lot, and replaced every `saltRotationMs`; an entry is
 * hashed once per salt and kept, so a refresh hashes only new plates.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../time/clock.js';
import { allowlistEntry, ALLOWLIST_KDF } from '../../proto/v1/allowlist-entry.js';
import type { AllowlistKdf, Policy } from '../../proto/v1/messages.js';
import { MAX_ALLOWLIST_ENTRIES } from '../../proto/v1/messages.js';
import type { PlateLink, Repositories, Store } from '../storage/repositories.js';

export interface OfflineAllowlistOptions {
  /** a lot's salt is replaced this often (every entry hashed anew) */
  saltRotationMs: number;
  /** a linked plate stays on a lot's list this long after its last stay there began */
  recentStayMs: number;
  kdf: AllowlistKdf;
}

export const defaultOfflineAllowlistOptions: OfflineAllowlistOptions = {
  saltRotationMs: 24 * 3_600_000,
  recentStayMs: 90 * 24 * 3_600_000,
  kdf: ALLOWLIST_KDF,
};

/** a policy message without its envelope id */
export type AllowlistSnapshot = Omit<Policy, 'id'>;

interface LotList {
  /** which rotation the salt belongs to (periodOf) */
  period: number;
  salt: Buffer;
  /** plate -> entry */
  entries: Map<string, string>;
}

/** entries hashed at once per lot (each on libuv's thread pool), so a rotation does not take the whole pool */
const HASHING_AT_ONCE = 2;

export class OfflineAllowlists {
  private readonly lists = new Map<string, LotList>();
  /** a lot's refresh in progress: one at a time per lot */
  private readonly refreshing = new Map<string, Promise<AllowlistSnapshot>>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly options: OfflineAllowlistOptions = defaultOfflineAllowlistOptions,
  ) {}

  /** The lot's list read anew from the database (hashing only plates new to this salt). */
  refresh(lotId: string): Promise<AllowlistSnapshot> {
    const running = this.refreshing.get(lotId);
    if (running) return running;
    const run = this.rebuild(lotId).finally(() => this.refreshing.delete(lotId));
    this.refreshing.set(lotId, run);
    return run;
  }

  /**
   * A plate has just entered the lot: adds it when it is linked, in good standing and not on the
   * list yet. Returns the lot's new list when it changed, else null. (Before the lot's first list
   * is built, the refresh building it, or the next one, reads the arrival from the database.)
   */
  async admitArrival(lotId: string, plate: string): Promise<AllowlistSnapshot | null> {
    const list = this.lists.get(lotId);
    if (!list || list.entries.has(plate)) return null;
    const allowed = await this.store.transaction(async (repos) => {
      const link = await repos.links.activeByPlate(plate);
      return link !== null && (await inGoodStanding(repos, link));
    });
    if (!allowed) return null;
    const entry = await allowlistEntry(plate, list.salt, this.options.kdf);
    // a refresh put in another list meanwhile (it may have read the database before this arrival)
    if (this.lists.get(lotId) !== list) return this.admitArrival(lotId, plate);
    list.entries.set(plate, entry);
    return this.snapshot(lotId, list);
  }

  /**
   * Builds the lot's list aside and puts it in whole: gates never get a list half hashed, and the
   * one in place goes on serving arrivals meanwhile (those are carried over).
   */
  private async rebuild(lotId: string): Promise<AllowlistSnapshot> {
    const old = this.lists.get(lotId);
    const period = this.periodOf(lotId);
    const keep = old && old.period === period ? old : null;
    const salt = keep ? keep.salt : randomBytes(16);
    const before = new Set(old?.entries.keys());
    const since = this.clock.now() - this.options.recentStayMs;
    const needed = await this.store.transaction(async (repos) => {
      const out: string[] = [];
      for (const link of await repos.links.activeParkedAt(lotId, since)) {
        if (await inGoodStanding(repos, link)) out.push(link.plate);
      }
      return out;
    });
    const entries = new Map<string, string>();
    await this.hashInto(entries, needed, salt, keep);
    // arrivals added to the list in place while this ran: the database read above may not have seen them
    const arrived = [...(old?.entries.keys() ?? [])].filter((p) => !before.has(p));
    await this.hashInto(entries, arrived, salt, keep);
    const list: LotList = { period, salt, entries };
    this.lists.set(lotId, list);
    return this.snapshot(lotId, list);
  }

  /** adds the entries of `plates` not in `entries`, taken from `keep` (the same salt) or hashed */
  private async hashInto(entries: Map<string, string>, plates: string[], salt: Buffer, keep: LotList | null) {
    const missing: string[] = [];
    for (const plate of plates) {
      if (entries.has(plate)) continue;
      const kept = keep?.entries.get(plate);
      if (kept) entries.set(plate, kept);
      else missing.push(plate);
    }
    const workers = Array.from({ length: HASHING_AT_ONCE }, async () => {
      for (let plate = missing.pop(); plate !== undefined; plate = missing.pop()) {
        entries.set(plate, await allowlistEntry(plate, salt, this.options.kdf));
      }
    });
    await Promise.all(workers);
  }

  /** which rotation it is for the lot: each lot rotates at its own time of day, so they do not all hash at once */
  private periodOf(lotId: string): number {
    const rotation = this.options.saltRotationMs;
    const offset = createHash('sha256').update(lotId).digest().readUInt32BE(0) % rotation;
    return Math.floor((this.clock.now() + offset) / rotation);
  }

  private snapshot(lotId: string, list: LotList): AllowlistSnapshot {
    return {
      v: 1,
      type: 'policy',
      issuedAt: this.clock.now(),
      lotId,
      salt: list.salt.toString('base64'),
      kdf: this.options.kdf,
      // sorted: the order tells nothing of when a plate was added (past the protocol's bound, some are left out)
      allow: [...list.entries.values()].sort().slice(0, MAX_ALLOWLIST_ENTRIES),
    };
  }
}

/** something to charge: a saved payment method, or money in the wallet */
async function inGoodStanding(repos: Repositories, link: PlateLink): Promise<boolean> {
  const account = await repos.accounts.byId(link.accountId);
  if (!account) return false;
  return (await repos.payments.methodOfAccount(account.id)) !== null || (await repos.accounts.balance(account.id)) > 0;
}
