/**
 * CI runs the suite once on SQLite, then again on PostgreSQL for the test
 * files that can reach a database: `scripts/database-tests.mjs` lists them
 * (the files that read the test database's variable, directly or through
 * the test modules they import), and .ci/run runs that list. This keeps the
 * list honest: the harnesses are followed, tests that only repeat their
 * SQLite run are left out, and the check can fail.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { before, describe, it } from 'node:test';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');

interface DatabaseTestsModule {
  reachesDatabase(file: string, root: string): boolean;
  databaseTests(root: string): string[];
}

let script: DatabaseTestsModule;
let listed: string[];

before(async () => {
  const url = pathToFileURL(join(repo, 'scripts', 'database-tests.mjs')).href;
  script = (await import(url)) as DatabaseTestsModule;
  listed = script.databaseTests(here).map((f) => relative(here, f));
});

describe('the PostgreSQL pass of CI', () => {
  it('runs the files scripts/database-tests.mjs lists', () => {
    const ci = readFileSync(join(repo, '.ci', 'run'), 'utf8');
    assert.match(ci, /node scripts\/database-tests\.mjs/);
    assert.match(ci, /node --test --test-concurrency=1 "\$\{DATABASE_TESTS\[@\]\}"/);
  });

  it('lists the tests that start a cloud or open a store, through their harnesses', () => {
    for (const file of [
      'cloud/cloud-harness.js',
      'cloud/pg-statements.test.js',
      'faults/pg-storage-faults.test.js',
      'web/operator-dashboard.test.js',
      'cli/cloud-cli.test.js',
    ]) {
      if (file.endsWith('.test.js')) assert.ok(listed.includes(file), `${file} is not in the PostgreSQL pass`);
      else assert.ok(script.reachesDatabase(join(here, file), here), `${file} does not reach the test database`);
    }
  });

  it('refuses a folder that does not exist, or lists no test, with a clear error and no list', () => {
    const run = (folder: string) =>
      spawnSync(process.execPath, [join(repo, 'scripts', 'database-tests.mjs'), folder], { encoding: 'utf8' });
    const missing = run(join(tmpdir(), 'platepay-no-such-folder'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /platepay-no-such-folder: no such folder \(is dist\/ built\?/);
    assert.equal(missing.stdout, '');
    const empty = mkdtempSync(join(tmpdir(), 'platepay-no-tests-'));
    try {
      const none = run(empty);
      assert.equal(none.status, 1);
      assert.match(none.stderr, /no test file under .* reaches/);
      assert.equal(none.stdout, '');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('leaves out the tests that never reach a database', () => {
    for (const folder of ['vision/', 'training/', 'proto/', 'scenes/', 'bench/']) {
      assert.deepEqual(
        listed.filter((f) => f.startsWith(folder)),
        [],
        `${folder} tests in the PostgreSQL pass`,
      );
    }
    for (const file of [
      'cli/cli.test.js',
      'cli/train-cli.test.js',
      'cloud/tariff.test.js',
      'edge/plate-vote.test.js',
    ]) {
      assert.ok(!listed.includes(file), `${file} would only repeat its SQLite run`);
    }
  });
});
