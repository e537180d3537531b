/**
 * `platepay train recognizer` end to end through the real CLI and the real
 * ONNX backbone, on a tiny train-* folder of rendered crops: the head and
 * the neck runs each write their model file (loadable as the shipped ones
 * are) and the loss / accuracy plot, a second run with --resume continues
 * from the checkpoint (it starts after the epochs already done), and an
 * evaluation folder is refused by name with nothing written.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { PlateAlphabet } from '../../edge/vision/ctc-decoder.js';
import { ModelFiles } from '../../edge/vision/model-files.js';
import { neckModelFromFile } from '../../edge/vision/neck-model.js';
import { PlateHead } from '../../edge/vision/plate-head.js';
import { renderPlate } from '../../scenes/plate-renderer.js';

const BIN = fileURLToPath(new URL('../../../bin/platepay.js', import.meta.url));
const run = promisify(execFile);

async function platepay(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const PLATES = ['ABC123', 'XYZ789', 'KLM456', 'PQR321', 'DEF654', 'GHJ987', 'STU246', 'VWX135'];

describe('platepay train recognizer', { timeout: 600_000 }, () => {
  let dir: string;
  const train = () => join(dir, 'train-tiny');
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'train-cli-'));
    for (const name of ['train-tiny', 'openalpr-us']) {
      await mkdir(join(dir, name, 'images'), { recursive: true });
      const rows = ['file,plate,region'];
      for (const [i, plate] of PLATES.entries()) {
        await writeFile(
          join(dir, name, 'images', `${i}.png`),
          (await renderPlate({ style: 'us', text: plate }, 200)).png,
        );
        rows.push(`images/${i}.png,${plate},US`);
      }
      await writeFile(join(dir, name, 'labels.csv'), rows.join('\n') + '\n');
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const small = ['--renders', '2', '--augment', '0', '--cut', 'whole', '--json'];

  for (const kind of ['head', 'neck'] as const) {
    it(`trains the ${kind}, writes the model and the plot, and resumes from its checkpoint`, async () => {
      const out = join(dir, `plate-${kind}.json`);
      const first = await platepay([
        'train',
        'recognizer',
        '--train',
        kind,
        '--data',
        train(),
        '--out',
        out,
        '--epochs',
        '1',
        ...small,
      ]);
      assert.equal(first.code, 0, first.stderr);
      const result = JSON.parse(first.stdout.trim().split('\n').at(-1)!) as { best: { epoch: number } };
      assert.ok(result.best.epoch === 0 || result.best.epoch === 1, `best epoch ${result.best.epoch}`);
      const checkpoint = async () =>
        (JSON.parse(await readFile(`${out}.checkpoint.json`, 'utf8')) as { epoch: number }).epoch;
      assert.equal(await checkpoint(), 1);
      // the file loads as the shipped models do
      const file: unknown = JSON.parse(await readFile(out, 'utf8'));
      const dictionary = new ModelFiles().bytes('dict').toString('utf8').replace(/\r/g, '').split('\n').filter(Boolean);
      const alphabet = new PlateAlphabet(dictionary);
      if (kind === 'head') assert.ok(PlateHead.fromFile(file, alphabet) instanceof PlateHead);
      else assert.ok(neckModelFromFile(file, alphabet).head instanceof PlateHead);
      const plot = await readFile(out.replace(/\.json$/, '.png'));
      assert.deepEqual([...plot.subarray(1, 4)], [...Buffer.from('PNG')]);

      const flags = small.filter((f) => f !== '--json');
      const again = await platepay([
        'train',
        'recognizer',
        '--train',
        kind,
        '--data',
        train(),
        '--out',
        out,
        '--epochs',
        '2',
        '--resume',
        ...flags,
      ]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /^epoch 2:/m);
      assert.doesNotMatch(again.stdout, /^epoch 1:/m);
      assert.equal(await checkpoint(), 2);
    });
  }

  it('refuses an evaluation folder by name and writes nothing', async () => {
    const out = join(dir, 'refused.json');
    const r = await platepay(['train', 'recognizer', '--data', join(dir, 'openalpr-us'), '--out', out, ...small]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /openalpr-us.*never for training/);
    assert.equal(existsSync(out), false);
  });
});
