/**
 * CI runs the suite once on SQLite, then again on PostgreSQL for the test
 * folders that can reach a database (.ci/run lists them). This keeps that
 * list honest: no test in a folder left out of the second pass reaches
 * PLATEPAY_TEST_DATABASE, directly or through the modules it imports.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const here = dirname(fileURLToPath(import.meta.url));
const LEFT_OUT = ['vision', 'training', 'proto', 'scenes', 'bench'];

/** True when `file` or a test module it imports (transitively) reads the test database's variable. */
function reachesDatabase(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file) || !file.startsWith(here)) return false; // product modules read no test variable
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  if (text.includes('PLATEPAY_TEST_DATABASE')) return true;
  const imports = [...text.matchAll(/from '(\.{1,2}\/[^']+\.js)'/g)].map((m) => resolve(dirname(file), m[1]!));
  return imports.some((f) => reachesDatabase(f, seen));
}

describe('the PostgreSQL pass of CI', () => {
  it('leaves out only test folders that never reach a database', () => {
    const ci = readFileSync(join(here, '..', '..', '.ci', 'run'), 'utf8');
    for (const folder of LEFT_OUT) assert.ok(!ci.includes(`dist/test/${folder}/`), `.ci/run runs ${folder} twice`);
    for (const folder of LEFT_OUT) {
      for (const name of readdirSync(join(here, folder), { recursive: true }) as string[]) {
        if (!name.endsWith('.test.js')) continue;
        assert.ok(!reachesDatabase(join(here, folder, name)), `${folder}/${name} reaches the test database`);
      }
    }
    // and the check can fail: a module that reads it is found
    assert.ok(reachesDatabase(join(here, 'cloud', 'cloud-harness.js')));
  });
});
