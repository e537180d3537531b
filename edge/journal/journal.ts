/**
 * The gate unit's local journal (SQLite, WAL, synchronous=FULL): every lane
 * event is written, with its counter, before it is sent; the cloud's
 * decision (or the lane's offline decision) and the barrier outcome are
 * written when known. Events without a cloud decision form the outbox,
 * replayed in counter order after a reconnect. Survives SIGKILL and power
 * loss: an event is either fully in the journal or was never signed off.
 */
import Database from 'better-sqlite3';
import type { DecisionBody, LaneEventBody, Policy } from '../../proto/v1/messages.js';
import { decodeCloudToGate } from '../../proto/v1/codec.js';

export interface JournalEntry {
  event: LaneEventBody;
  cloudDecision: DecisionBody | null;
  /** what the lane did: open/hold, and why (cloud, offline policy, budget) */
  outcome: { action: 'open' | 'hold'; reason: string; barrierAcked: boolean | null } | null;
}

export class Journal {
  private readonly db: Database.Database;
  private readonly stmt;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        counter INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        lane_id TEXT NOT NULL,
        event TEXT NOT NULL,
        cloud_decision TEXT,
        outcome TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_outbox ON events(counter) WHERE cloud_decision IS NULL;
      CREATE TABLE IF NOT EXISTS policy (id INTEGER PRIMARY KEY CHECK (id = 1), snapshot TEXT NOT NULL);
    `);
    this.stmt = {
      maxCounter: this.db.prepare('SELECT MAX(counter) AS m FROM events'),
      insert: this.db.prepare(
        'INSERT INTO events (counter, event_id, lane_id, event, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      decide: this.db.prepare('UPDATE events SET cloud_decision = ? WHERE event_id = ?'),
      outcome: this.db.prepare('UPDATE events SET outcome = ? WHERE event_id = ?'),
      outbox: this.db.prepare('SELECT * FROM events WHERE cloud_decision IS NULL ORDER BY counter LIMIT ?'),
      outboxSize: this.db.prepare('SELECT COUNT(*) AS n FROM events WHERE cloud_decision IS NULL'),
      byId: this.db.prepare('SELECT * FROM events WHERE event_id = ?'),
      recent: this.db.prepare('SELECT * FROM events ORDER BY counter DESC LIMIT ?'),
      savePolicy: this.db.prepare(
        'INSERT INTO policy (id, snapshot) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot',
      ),
      loadPolicy: this.db.prepare('SELECT snapshot FROM policy WHERE id = 1'),
    };
  }

  /** Assigns the next counter (above `floor`, the cloud's last applied one) and writes the event; durable on return. */
  record(make: (counter: number) => LaneEventBody, floor: number, at: number): LaneEventBody {
    return this.db
      .transaction(() => {
        const m = (this.stmt.maxCounter.get() as { m: number | null }).m ?? 0;
        const event = make(Math.max(m, floor) + 1);
        this.stmt.insert.run(event.counter, event.eventId, event.laneId, JSON.stringify(event), at);
        return event;
      })
      .immediate();
  }

  setCloudDecision(eventId: string, decision: DecisionBody): void {
    this.stmt.decide.run(JSON.stringify(decision), eventId);
  }

  setOutcome(eventId: string, outcome: NonNullable<JournalEntry['outcome']>): void {
    this.stmt.outcome.run(JSON.stringify(outcome), eventId);
  }

  /** Events the cloud has not decided yet, oldest first. */
  outbox(limit = 100): LaneEventBody[] {
    return (this.stmt.outbox.all(limit) as Array<{ event: string }>).map((r) => JSON.parse(r.event) as LaneEventBody);
  }

  get outboxSize(): number {
    return (this.stmt.outboxSize.get() as { n: number }).n;
  }

  entry(eventId: string): JournalEntry | null {
    const r = this.stmt.byId.get(eventId) as Record<string, string | null> | undefined;
    return r ? toEntry(r) : null;
  }

  recent(limit: number): JournalEntry[] {
    return (this.stmt.recent.all(limit) as Array<Record<string, string | null>>).map(toEntry);
  }

  savePolicy(p: Policy): void {
    this.stmt.savePolicy.run(JSON.stringify(p));
  }

  /**
   * The last policy snapshot kept, or null when there is none or it is not a policy of this protocol
   * (one kept by an older version, before allowlists were per lot and hashed with scrypt: the lane
   * then holds, as it would without a list, until the cloud sends a new one).
   */
  loadPolicy(): Policy | null {
    const r = this.stmt.loadPolicy.get() as { snapshot: string } | undefined;
    if (!r) return null;
    try {
      const m = decodeCloudToGate(r.snapshot);
      return m.type === 'policy' ? m : null;
    } catch {
      return null;
    }
  }

  /**
   * How the connection writes, read back from SQLite: the journal promises
   * WAL with `synchronous` FULL (a commit is on disk before `record`
   * returns, so it survives power loss).
   */
  durability(): { journalMode: string; synchronous: string } {
    const level = this.db.pragma('synchronous', { simple: true }) as number;
    return {
      journalMode: this.db.pragma('journal_mode', { simple: true }) as string,
      synchronous: SYNCHRONOUS_LEVELS[level] ?? String(level),
    };
  }

  close(): void {
    this.db.close();
  }
}

/** SQLite's `synchronous` levels by number */
const SYNCHRONOUS_LEVELS = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

function toEntry(r: Record<string, string | null>): JournalEntry {
  return {
    event: JSON.parse(r.event!) as LaneEventBody,
    cloudDecision: r.cloud_decision ? (JSON.parse(r.cloud_decision) as DecisionBody) : null,
    outcome: r.outcome ? (JSON.parse(r.outcome) as JournalEntry['outcome']) : null,
  };
}
