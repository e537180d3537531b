// The compiled test files that can reach a database: those that read PLATEPAY_TEST_DATABASE, directly or
// through the test modules they import (test harnesses such as test/cloud/cloud-harness.ts). CI runs the
// whole suite on SQLite, then these files again on PostgreSQL (.ci/run); any other file would only repeat
// its SQLite run there (the CLI's scene, eval and train tests alone took about 90 s of that pass).
// Product modules never read the variable, so only test modules are followed.
//   node scripts/database-tests.mjs [DIST_TEST_DIR]   prints one path per line (default dist/test)
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when `file` (a compiled test module under `root`) or a test module it imports reads the variable. */
export function reachesDatabase(file, root, seen = new Set()) {
  if (seen.has(file) || !file.startsWith(root)) return false;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  if (text.includes('PLATEPAY_TEST_DATABASE')) return true;
  const imports = [...text.matchAll(/from '(\.{1,2}\/[^']+\.js)'/g)].map((m) => resolve(dirname(file), m[1]));
  return imports.some((f) => reachesDatabase(f, root, seen));
}

/** The `*.test.js` files under `root` that reach a database, as absolute paths, sorted. */
export function databaseTests(root) {
  const absolute = resolve(root);
  return readdirSync(absolute, { recursive: true })
    .filter((name) => name.endsWith('.test.js'))
    .map((name) => join(absolute, name))
    .filter((file) => reachesDatabase(file, absolute))
    .sort();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? 'dist/test';
  if (!existsSync(root)) {
    console.error(`${root}: no such folder (is dist/ built? npm ci builds it)`);
    process.exit(1);
  }
  const files = databaseTests(root);
  if (files.length === 0) {
    console.error(`no test file under ${root} reaches PLATEPAY_TEST_DATABASE (is dist/ built?)`);
    process.exit(1);
  }
  for (const file of files) console.log(relative(process.cwd(), file));
}
