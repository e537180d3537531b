/**
 * Two `platepay cloud` processes on one PostgreSQL database. Many gates,
 * each connected to both instances over the real gate protocol, send entries
 * and then exits: some exits to one instance, some (the very same signed
 * event) to both at once. Half-way through the exits the instance holding
 * the ledger sequencer lock is SIGKILLed; its gates resend what it did not
 * answer to the survivor, as a gate's outbox does. Then: every exit is
 * settled exactly once (one settlement, one charge, one ledger record), the
 * books balance, both instances answered a doubly-sent exit with the same
 * settlement, the survivor took the sequencer lock over and checkpointed
 * the whole log, and `platepay ledger verify --url` accepts the ledger.
 *
 * Needs PLATEPAY_TEST_DATABASE (see cloud-harness.ts); skipped without it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { formatVerifierKey, parseSigningKey } from '../../cloud/ledger/signed-note.js';
import type { LaneEventBody } from '../../proto/v1/messages.js';
import { laneEventSigningBytes } from '../../proto/v1/codec.js';
import { GateKey } from '../../proto/v1/gate-key.js';
import { BIN, GateLink, call, startInstance, until, writeInstanceConfig } from './cloud-instances.js';
import { topUpAndWait } from './top-up.js';
import type { Instance } from './cloud-instances.js';
import {
  ADMIN_KEY,
  TEST_LEDGER_KEY,
  TEST_POSTGRES,
  hourlyTariff,
  createTestDatabase,
  dropTestDatabase,
} from './cloud-harness.js';

const GATES = 12;
const CARS = 36;

describe(
  'two cloud instances on one PostgreSQL',
  { skip: TEST_POSTGRES ? false : 'PLATEPAY_TEST_DATABASE is not set' },
  () => {
    let dir: string;
    let url: string;
    let db: pg.Client;
    const instances: Instance[] = [];

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'platepay-pg2-'));
      url = await createTestDatabase();
      db = new pg.Client({ connectionString: url });
      await db.connect();
    });
    after(async () => {
      for (const i of instances) i.child.kill('SIGKILL');
      await Promise.all(instances.map((i) => i.exited));
      await db?.end();
      if (url) await dropTestDatabase(url);
      await rm(dir, { recursive: true, force: true });
    });

    /** the node process id of the instance holding the sequencer lock, or null */
    async function sequencerPid(): Promise<number | null> {
      const r = await db.query(
        `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.classid = 7311 AND l.objid = 2 AND l.granted
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      const m = /platepay-ledger-sequencer-(\d+)/.exec(r.rows[0]?.application_name ?? '');
      return m ? Number(m[1]) : null;
    }

    it('settles every exit once, keeps one consistent ledger, and survives the sequencer being killed', async (t) => {
      const configFile = await writeInstanceConfig(dir, url);
      // one after the other, so the first one migrates; then both are up
      instances.push(await startInstance('A', configFile));
      instances.push(await startInstance('B', configFile));
      const [a, b] = instances as [Instance, Instance];
      await until('a sequencer', sequencerPid);

      // a lot, its lanes, gates, and drivers with linked plates (set up through either instance)
      const lot = await call(a.url, 'POST', '/v1/lots', ADMIN_KEY, { name: 'Two instances', tariff: hourlyTariff });
      assert.equal(lot.status, 201, JSON.stringify(lot.body));
      const entryLane = (
        await call(b.url, 'POST', `/v1/lots/${lot.body.id}/lanes`, ADMIN_KEY, { name: 'in', direction: 'entry' })
      ).body.id as string;
      const exitLane = (
        await call(a.url, 'POST', `/v1/lots/${lot.body.id}/lanes`, ADMIN_KEY, { name: 'out', direction: 'exit' })
      ).body.id as string;
      const gates: Array<{ id: string; key: GateKey; counter: number; links: Map<string, GateLink> }> = [];
      for (let g = 0; g < GATES; g++) {
        const key = GateKey.generate();
        const r = await call(g % 2 ? a.url : b.url, 'POST', `/v1/lots/${lot.body.id}/gates`, ADMIN_KEY, {
          name: `gate-${g}`,
          publicKey: key.publicKey,
        });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        gates.push({ id: r.body.id, key, counter: 0, links: new Map() });
      }
      const plates: string[] = [];
      for (let i = 0; i < CARS; i++) {
        const base = i % 2 ? a.url : b.url;
        const plate = `PGT${String(1000 + i)}`;
        const signUp = await call(base, 'POST', '/v1/drivers', undefined, {
          email: `car${i}@example.com`,
          password: 'correct horse battery',
          name: `Driver ${i}`,
        });
        assert.equal(signUp.status, 201, JSON.stringify(signUp.body));
        const me = await call(base, 'GET', '/v1/me', signUp.body.token);
        await topUpAndWait((m, p, body) => call(base, m, p, signUp.body.token, body), me.body.accounts[0].id, 10_000);
        const link = await call(base, 'POST', '/v1/me/links', signUp.body.token, {
          plate,
          accountId: me.body.accounts[0].id,
        });
        assert.equal(link.status, 201, JSON.stringify(link.body));
        plates.push(plate);
      }
      for (const gate of gates) {
        for (const inst of instances) gate.links.set(inst.name, await GateLink.connect(inst.url, gate.id, gate.key));
      }

      let killed: Instance | null = null;
      let lostAnswers = 0;
      const problems = new Set<string>();
      const alive = (name: string) => !killed || killed.name !== name;
      /** sends one signed event to the named instances at once; resends to the survivor what a dead one did not answer */
      async function send(gate: (typeof gates)[number], body: LaneEventBody, to: string[]) {
        const signature = gate.key.sign(laneEventSigningBytes(body));
        for (let attempt = 0; ; attempt++) {
          const targets = to.filter(alive);
          const answers = await Promise.allSettled(
            (targets.length ? targets : instances.filter((i) => alive(i.name)).map((i) => i.name)).map((name) =>
              gate.links.get(name)!.event(body, signature),
            ),
          );
          const decisions = answers.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
          if (answers.length > decisions.length) lostAnswers++;
          for (const r of answers)
            if (r.status === 'rejected') problems.add(String((r.reason as Error).message).slice(0, 200));
          if (decisions.length) return decisions;
          assert.ok(attempt < 50, `no instance answered ${body.eventId}: ${[...problems].join('; ')}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const event = (gate: (typeof gates)[number], kind: 'entry' | 'exit', plate: string, at: number) => {
        gate.counter++;
        return {
          gateId: gate.id,
          counter: gate.counter,
          eventId: `${kind}-${plate}-${gate.counter}`,
          laneId: kind === 'entry' ? entryLane : exitLane,
          kind,
          plate,
          confidence: 0.99,
          evidenceDigest: 'ab'.repeat(32),
          triggeredAt: at,
          at,
        } satisfies LaneEventBody;
      };

      // entries, two hours ago: each gate sends its cars in order, the gates all at once
      const entryAt = Date.now() - 2 * 3600_000;
      await Promise.all(
        gates.map(async (gate, g) => {
          for (let i = g; i < CARS; i += GATES) {
            const [d] = await send(gate, event(gate, 'entry', plates[i]!, entryAt + i), [i % 2 ? 'A' : 'B']);
            assert.equal(d!.action, 'open', JSON.stringify(d));
          }
        }),
      );

      // exits: a third to both instances at once, the rest to one; the sequencer is killed half-way
      const firstSequencer = await until('a sequencer', sequencerPid);
      const victim = instances.find((i) => i.child.pid === firstSequencer);
      assert.ok(victim, 'one of the two instances holds the sequencer lock');
      const survivor = instances.find((i) => i !== victim)!;
      let answered = 0;
      const decisions = new Map<string, Array<{ settlementId: string | null; reason: string; action: string }>>();
      const killAt = CARS / 2;
      const exits = Promise.all(
        gates.map(async (gate, g) => {
          for (let i = g; i < CARS; i += GATES) {
            const body = event(gate, 'exit', plates[i]!, Date.now());
            const to = i % 3 === 0 ? ['A', 'B'] : [i % 3 === 1 ? 'A' : 'B'];
            const ds = await send(gate, body, to);
            decisions.set(plates[i]!, ds);
            if (++answered === killAt) {
              killed = victim!;
              victim!.child.kill('SIGKILL');
            }
          }
        }),
      );
      await exits;
      await victim!.exited;

      // every exit: opened and charged; a doubly-sent exit got the same settlement from both
      for (const [plate, ds] of decisions) {
        for (const d of ds)
          assert.deepEqual([d.action, d.reason], ['open', 'charged'], `${plate}: ${JSON.stringify(d)}`);
        assert.equal(new Set(ds.map((d) => d.settlementId)).size, 1, `${plate}: one settlement`);
      }
      assert.equal(decisions.size, CARS);
      const both = [...decisions.values()].filter((ds) => ds.length === 2).length;
      t.diagnostic(
        `exits answered by both instances: ${both}; sends that lost an answer to the kill: ${lostAnswers}; ${[...problems].join('; ')}`,
      );

      // the survivor takes the sequencer over and checkpoints every record
      await until('the survivor to hold the sequencer lock', async () => (await sequencerPid()) === survivor.child.pid);
      // and says so on /metrics
      await until('the survivor to report itself the sequencer', async () =>
        /^platepay_ledger_sequencer 1$/m.test(
          await (await fetch(`${survivor.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text(),
        ),
      );
      await until('a checkpoint of the whole log', async () => {
        const c = await call(survivor.url, 'GET', '/v1/ledger/checkpoint', ADMIN_KEY);
        return c.status === 200 && c.body.size === CARS;
      });
      const q = async (sql: string) => (await db.query(sql)).rows[0] as Record<string, string>;
      const settled = await q(
        `SELECT count(*) AS n, count(DISTINCT session_id) AS sessions, count(DISTINCT exit_event_id) AS events FROM settlements`,
      );
      assert.deepEqual([Number(settled.n), Number(settled.sessions), Number(settled.events)], [CARS, CARS, CARS]);
      const charges = await q(`SELECT count(*) AS n FROM journal_entries WHERE kind = 'charge'`);
      assert.equal(Number(charges.n), CARS, 'one charge per exit');
      assert.equal(Number((await q('SELECT COALESCE(SUM(amount), 0) AS s FROM postings')).s), 0, 'the books balance');
      const open = await q(`SELECT count(*) AS n FROM parking_sessions WHERE status != 'closed'`);
      assert.equal(Number(open.n), 0);
      const records = await q(
        `SELECT count(*) AS n, min(idx) AS lo, max(idx) AS hi,
              count(*) FILTER (WHERE ref IN (SELECT id FROM settlements)) AS matched FROM ledger_records`,
      );
      assert.deepEqual(
        [Number(records.n), Number(records.lo), Number(records.hi), Number(records.matched)],
        [CARS, 0, CARS - 1, CARS],
        'one ledger record per settlement, indexes dense',
      );
      assert.equal(Number((await q('SELECT count(*) AS n FROM ledger_queue')).n), 0, 'nothing left to sequence');

      // the ledger verifies, as a partner checks it over HTTP
      const auditor = (await call(survivor.url, 'POST', '/v1/keys', ADMIN_KEY, { role: 'auditor', label: 'bank' })).body
        .secret as string;
      const logKey = formatVerifierKey(parseSigningKey(TEST_LEDGER_KEY));
      const verified = await new Promise<{ code: number; out: string }>((resolve) => {
        execFile(
          process.execPath,
          [BIN, 'ledger', 'verify', '--url', survivor.url, '--api-key', auditor, '--log-key', logKey, '--json'],
          (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
        );
      });
      assert.equal(verified.code, 0, verified.out);
      assert.equal(JSON.parse(verified.out).records, CARS);
      for (const gate of gates) for (const link of gate.links.values()) link.close();
    });
  },
);
