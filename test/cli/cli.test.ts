/**
 * The `platepay` command (bin/platepay.js -> cli/): exit codes, usage
 * messages, `read` and `eval` on rendered scenes and plate crops, and the
 * --json contract (exactly one JSON document on stdout).
 *
 * Each run that reads images loads the ONNX models (a second or two), so
 * the number of spawns is kept small.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { renderPlate } from '../../scenes/plate-renderer.js';
import type { PlateStyle } from '../../scenes/plate-renderer.js';
import type { RenderedScene } from '../../scenes/scene-renderer.js';
import { plainText, renderScene } from '../../scenes/scene-renderer.js';
import { randomSceneSpec } from '../../scenes/random-scene.js';

/** dist/test/cli/ -> the project root */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'platepay.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function platepay(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, timeout: 90_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const show = (r: Run): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** stdout holds exactly one JSON document (one line) and nothing else. */
function oneJsonDocument(r: Run): unknown {
  const lines = r.stdout.split('\n').filter((l) => l.trim().length > 0);
  assert.equal(lines.length, 1, `expected one JSON line on stdout\n${show(r)}`);
  assert.ok(r.stdout.endsWith('\n'), 'stdout does not end with a newline');
  try {
    return JSON.parse(r.stdout);
  } catch (err) {
    assert.fail(`stdout is not JSON (${(err as Error).message})\n${show(r)}`);
  }
}

function bounds(quad: ReadonlyArray<{ x: number; y: number }>): [number, number, number, number] {
  const xs = quad.map((p) => p.x);
  const ys = quad.map((p) => p.y);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)].map((v) => Math.round(v * 10) / 10) as [
    number,
    number,
    number,
    number,
  ];
}

let dir: string;
let usScene: RenderedScene;
let sceneFile: string;
let emptyFile: string;
let scenesDir: string;
let cropsDir: string;
let noLabelsDir: string;
const sceneLabels: Array<{ file: string; plate: string }> = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'platepay-cli-test-'));
  usScene = await renderScene(randomSceneSpec('us', 1, 'easy'));
  sceneFile = join(dir, 'us-scene.jpg');
  await writeFile(sceneFile, usScene.jpeg);
  emptyFile = join(dir, 'empty.jpg');
  await writeFile(emptyFile, Buffer.alloc(0));

  // a scene dataset: three styles, boxes from the plate quads
  scenesDir = join(dir, 'scenes');
  await mkdir(join(scenesDir, 'images'), { recursive: true });
  const rows = ['file,plate,x1,y1,x2,y2'];
  for (const style of ['cn-blue', 'eu', 'us'] as const satisfies readonly PlateStyle[]) {
    const scene = await renderScene(randomSceneSpec(style, 1, 'easy'));
    const file = `images/${style}.jpg`;
    await writeFile(join(scenesDir, file), scene.jpeg);
    rows.push([file, scene.text, ...bounds(scene.plateQuad)].join(','));
    sceneLabels.push({ file, plate: scene.text });
  }
  await writeFile(join(scenesDir, 'labels.csv'), rows.join('\n') + '\n');

  // a crop dataset: two flat plates
  cropsDir = join(dir, 'crops');
  await mkdir(join(cropsDir, 'images'), { recursive: true });
  const cropRows = ['file,plate'];
  for (const [style, text, width] of [
    ['us', '7ABC123', 240],
    ['eu', 'BA 123CD', 260],
  ] as const) {
    const plate = await renderPlate({ style, text }, width);
    const file = `images/${style}.png`;
    await writeFile(join(cropsDir, file), plate.png);
    cropRows.push(`${file},${plainText(text)}`);
  }
  await writeFile(join(cropsDir, 'labels.csv'), cropRows.join('\n') + '\n');

  noLabelsDir = join(dir, 'no-labels');
  await mkdir(join(noLabelsDir, 'images'), { recursive: true });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('platepay usage', () => {
  it('--help lists every command with its summary and exits 0', async () => {
    const r = await platepay('--help');
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /usage: platepay/);
    for (const name of ['demo', 'read', 'eval', 'scene', 'cloud', 'ledger', 'bench', 'edge', 'keys', 'train'])
      assert.match(r.stdout, new RegExp(`^  ${name} +\\S.{10,}$`, 'm'), `${name} is listed with its summary`);
  });

  it('an unknown command exits 2 and names it, a name the command table inherits (toString) too', async () => {
    for (const name of ['frobnicate', 'toString']) {
      const r = await platepay(name);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, new RegExp(`unknown command "${name}"`));
      assert.match(r.stderr, /usage: platepay/);
      assert.equal(r.stdout, '');
    }
  });

  it('read with no image exits 2 with its usage', async () => {
    const r = await platepay('read');
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /give at least one image file/);
    assert.match(r.stderr, /usage: platepay read IMAGE/);
  });
});

describe('platepay read', () => {
  it('--json prints one JSON document with the plate that was drawn', async () => {
    const r = await platepay('read', sceneFile, '--json');
    assert.equal(r.code, 0, show(r));
    const doc = oneJsonDocument(r) as Array<{
      file: string;
      reads: Array<{ text: string; region: string; box: unknown[] }>;
      error?: string;
    }>;
    assert.ok(Array.isArray(doc) && doc.length === 1, show(r));
    assert.equal(doc[0]!.file, sceneFile);
    assert.equal(doc[0]!.error, undefined);
    assert.equal(doc[0]!.reads[0]?.text, usScene.text, show(r));
    assert.equal(doc[0]!.reads[0]?.region, 'US');
    assert.equal(doc[0]!.reads[0]?.box.length, 4);
  });

  it('--regions US reads the US plate as before; --regions CN does not read it as a US plate', async () => {
    const us = oneJsonDocument(await platepay('read', sceneFile, '--json', '--regions', 'US')) as Array<{
      reads: Array<{ text: string; region: string }>;
    }>;
    assert.equal(us[0]!.reads[0]?.text, usScene.text);
    assert.equal(us[0]!.reads[0]?.region, 'US');
    const cn = oneJsonDocument(await platepay('read', sceneFile, '--json', '--regions', 'CN')) as Array<{
      reads: Array<{ text: string; region: string }>;
    }>;
    assert.ok(
      cn[0]!.reads.every((r) => r.region === 'CN'),
      JSON.stringify(cn),
    );
  });

  it('--regions with something that is not a region exits 2 naming it', async () => {
    const r = await platepay('read', sceneFile, '--regions', 'US,XX');
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /--regions: "XX" is not a known region \(countries CN, US/);
  });

  it('prints the text of a good file and an error naming an empty one, and exits 1', async () => {
    const r = await platepay('read', sceneFile, emptyFile);
    assert.equal(r.code, 1, show(r));
    assert.ok(
      r.stdout.includes(`${sceneFile}: ${usScene.text} `),
      `no "${usScene.text}" line for ${sceneFile}\n${show(r)}`,
    );
    assert.ok(r.stderr.includes(`${emptyFile}: error:`), show(r));
    assert.match(r.stderr, /empty/);
    assert.ok(!r.stdout.includes(emptyFile), 'the empty file is reported on stdout');
  });

  it('--json on an empty file gives an "error" field naming it, and exits 1', async () => {
    const r = await platepay('read', emptyFile, '--json');
    assert.equal(r.code, 1, show(r));
    const doc = oneJsonDocument(r) as Array<{ file: string; reads: unknown[]; error?: string }>;
    assert.equal(doc.length, 1);
    assert.equal(doc[0]!.file, emptyFile);
    assert.deepEqual(doc[0]!.reads, []);
    assert.equal(typeof doc[0]!.error, 'string', show(r));
    assert.ok(doc[0]!.error!.includes(emptyFile), `error does not name the file: ${doc[0]!.error}`);
  });
});

interface Report {
  dataset: string;
  images: number;
  plateAccuracy: number;
  charAccuracy: number;
  detectionRecall: number | null;
  msPerImage: { median: number; p95: number; p99: number };
  errors: Array<{ file: string; expected: string; read: string }>;
}

function checkReport(
  r: Run,
  datasetDir: string,
  images: number,
  labels: ReadonlyArray<{ file: string; plate: string }>,
): Report {
  assert.equal(r.code, 0, show(r));
  const report = oneJsonDocument(r) as Report;
  for (const key of ['dataset', 'images', 'plateAccuracy', 'charAccuracy', 'detectionRecall', 'msPerImage', 'errors']) {
    assert.ok(key in report, `report lacks "${key}": ${r.stdout}`);
  }
  assert.equal(report.dataset, datasetDir);
  assert.equal(report.images, images);
  for (const key of ['plateAccuracy', 'charAccuracy'] as const) {
    const v = report[key];
    assert.ok(typeof v === 'number' && v >= 0 && v <= 1, `${key} ${v}`);
  }
  assert.ok(Array.isArray(report.errors) && report.errors.length <= images, JSON.stringify(report.errors));
  assert.ok(
    Math.abs(report.plateAccuracy - (images - report.errors.length) / images) < 1e-12,
    `plateAccuracy ${report.plateAccuracy} with ${report.errors.length} errors in ${images} images`,
  );
  for (const e of report.errors) {
    assert.deepEqual(Object.keys(e).sort(), ['expected', 'file', 'read']);
    const label = labels.find((l) => l.file === e.file);
    assert.ok(label, `error for unknown file ${e.file}`);
    assert.equal(e.expected, label.plate);
    assert.equal(typeof e.read, 'string');
    assert.notEqual(e.read, e.expected);
  }
  const ms = report.msPerImage;
  for (const key of ['median', 'p95', 'p99'] as const)
    assert.ok(typeof ms[key] === 'number' && ms[key] >= 0, `${key} ${ms[key]}`);
  assert.ok(ms.median <= ms.p95 && ms.p95 <= ms.p99, JSON.stringify(ms));
  return report;
}

describe('platepay scene', () => {
  for (const style of [
    'br-old',
    'br-mercosur',
    'ar-old',
    'ar-mercosur',
    'uk',
    'fr',
    'de',
    'es',
    'cn-police',
    'cn-coach',
    'cn-consulate',
    'cn-embassy',
    'cn-hk',
    'cn-macau',
    'cn-emergency',
    'cn-yellow-two-row',
    'cn-trailer-two-row',
  ] as const) {
    it(`--style ${style} --json writes the scene of that seed and prints its plate text`, async () => {
      const out = join(dir, `scene-${style}.jpg`);
      const r = await platepay('scene', '--out', out, '--style', style, '--seed', '7', '--json');
      assert.equal(r.code, 0, r.stderr);
      const printed = JSON.parse(r.stdout) as { file: string; plate: string };
      const expected = await renderScene(randomSceneSpec(style, 7, 'varied'));
      assert.deepEqual([printed.file, printed.plate], [out, expected.text]);
      assert.ok((await readFile(out)).equals(expected.jpeg), `${style}: the file is not the seed's scene`);
    });
  }

  it('an unknown --style exits 2 listing the styles', async () => {
    const r = await platepay('scene', '--out', join(dir, 'x.jpg'), '--style', 'br');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /br-old, br-mercosur, ar-old, ar-mercosur, uk, fr, de, es/);
  });
});

describe('platepay eval', () => {
  let sceneReport: Report | undefined;

  it('--json on a scene dataset reports every figure, with detection recall', async () => {
    const r = await platepay('eval', '--dataset', scenesDir, '--json');
    const report = checkReport(r, scenesDir, 3, sceneLabels);
    assert.equal(typeof report.detectionRecall, 'number');
    assert.ok(report.detectionRecall! >= 0 && report.detectionRecall! <= 1);
    sceneReport = report;
  });

  it('counts a plate it read correctly as detected (detection recall >= plate accuracy on scenes)', () => {
    assert.ok(sceneReport, 'the scene dataset run failed');
    // a plate read right was found by the detector; the labelled box is the whole plate (for a US
    // plate, state name and slogan included), so a recall that misses it measures the box, not the detector
    assert.ok(
      sceneReport.detectionRecall! >= sceneReport.plateAccuracy - 1e-9,
      `detection recall ${sceneReport.detectionRecall} below plate accuracy ${sceneReport.plateAccuracy} ` +
        `(errors: ${JSON.stringify(sceneReport.errors)})`,
    );
  });

  it('--json on a crop dataset has no detection recall', async () => {
    const r = await platepay('eval', '--dataset', cropsDir, '--json');
    const report = checkReport(r, cropsDir, 2, [
      { file: 'images/us.png', plate: '7ABC123' },
      { file: 'images/eu.png', plate: 'BA123CD' },
    ]);
    assert.equal(report.detectionRecall, null);
  });

  it('--compare generic,plate reads the same images with both recognisers in one run', async () => {
    const r = await platepay('eval', '--dataset', cropsDir, '--compare', 'generic,plate', '--json');
    assert.equal(r.code, 0, show(r));
    const { compare } = JSON.parse(r.stdout) as { compare: Report[] };
    assert.equal(compare.length, 2);
    for (const report of compare) assert.equal(report.images, 2);
    const text = await platepay('eval', '--dataset', cropsDir, '--compare', 'generic,plate');
    assert.match(text.stdout, /generic\s+plate/);
    assert.match(text.stdout, /plate accuracy/);
    const bad = await platepay('eval', '--dataset', cropsDir, '--compare', 'generic,fancy');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--compare must be one of generic, plate, head, got "fancy"/);
    const one = await platepay('eval', '--dataset', cropsDir, '--recognizer', 'head', '--json');
    assert.equal(one.code, 0, show(one));
    const three = await platepay('eval', '--dataset', cropsDir, '--compare', 'generic,plate,head', '--json');
    assert.equal(three.code, 0, show(three));
    assert.equal((JSON.parse(three.stdout) as { compare: Report[] }).compare.length, 3);
  });

  it('--limit 1 evaluates one image', async () => {
    const r = await platepay('eval', '--dataset', scenesDir, '--limit', '1', '--json');
    checkReport(r, scenesDir, 1, sceneLabels.slice(0, 1));
  });

  it('--limit abc exits 2 and says what --limit must be', async () => {
    const r = await platepay('eval', '--dataset', scenesDir, '--limit', 'abc');
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /--limit must be a positive integer, got "abc"/);
    assert.equal(r.stdout, '');
  });

  it('bench families refuses a bad --scenes or an unknown --styles entry with exit 2, naming it, and writes nothing', async () => {
    const results = join(ROOT, 'bench', 'results', 'families.json');
    const before = await readFile(results, 'utf8').catch(() => null);
    for (const [args, message] of [
      [['--scenes', 'x'], /--scenes must be a positive integer, got "x"/],
      [['--styles', 'us,nope'], /--styles: "nope" not a plate style/],
    ] as const) {
      const r = await platepay('bench', 'families', '--quick', ...args);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
    assert.equal(await readFile(results, 'utf8').catch(() => null), before);
  });

  it('without --dataset exits 2 with the usage', async () => {
    const r = await platepay('eval', '--json');
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /--dataset DIR is required/);
    assert.match(r.stderr, /usage: platepay eval/);
    assert.equal(r.stdout, '');
  });

  it('a folder without labels.csv exits 1 with a message naming labels.csv', async () => {
    const r = await platepay('eval', '--dataset', noLabelsDir, '--json');
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /labels\.csv/);
    assert.ok(r.stderr.includes(noLabelsDir), show(r));
    assert.equal(r.stdout, '', 'nothing on stdout when --json fails');
  });
});

describe('platepay bench settlement (usage)', () => {
  it('needs --dataset: exits 2 with the usage', async () => {
    const r = await platepay('bench', 'settlement');
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /needs at least one --dataset DIR/);
    assert.match(r.stderr, /usage: platepay bench/);
  });

  it('refuses a bad --sessions, --exits or --seed, naming it', async () => {
    for (const [flag, value] of [
      ['--sessions', '1000,x'],
      ['--sessions', '0'],
      ['--exits', '-5'],
      ['--seed', 'abc'],
    ] as const) {
      const r = await platepay('bench', 'settlement', '--dataset', scenesDir, flag, value);
      assert.equal(r.code, 2, show(r));
      assert.ok(r.stderr.includes(flag), show(r));
    }
  });

  it('--dataset belongs to bench settlement only', async () => {
    const r = await platepay('bench', 'ledger', '--dataset', scenesDir);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /--dataset goes with bench settlement/);
  });

  it('a folder without labels.csv exits 1 naming labels.csv', async () => {
    const r = await platepay('bench', 'settlement', '--dataset', noLabelsDir, '--json');
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /labels\.csv/);
    assert.equal(r.stdout, '');
  });
});
