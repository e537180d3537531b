/**
 * The training inputs (training/crop-dataset.ts): only train-* folders are
 * read (an evaluation set is refused by name), the validation split is by
 * plate text and seeded, and rendered plates are reproducible.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { PlateAlphabet } from '../../edge/vision/ctc-decoder.js';
import { REC_HEIGHT } from '../../edge/vision/rectifier.js';
import { plateStyles, renderPlate } from '../../scenes/plate-renderer.js';
import { ModelFiles } from '../../edge/vision/model-files.js';
import { SeededRandom } from '../../scenes/seeded-random.js';
import {
  TrainingDataError,
  isValidation,
  parseTrainingStyles,
  renderedPlates,
  trainingStyles,
  toStrip,
  trainingCrops,
} from '../../training/crop-dataset.js';

const alphabet = new PlateAlphabet(['A', 'B', 'C', '1', '2', '3', '皖']);

/** The reader's plate alphabet, from the shipped recogniser's dictionary. */
function plateAlphabet(): PlateAlphabet {
  const dictionary = new ModelFiles().bytes('dict').toString('utf8').replace(/\r/g, '').split('\n');
  return new PlateAlphabet(dictionary.filter((line) => line !== ''));
}

describe('training inputs', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'crop-dataset-'));
    const png = (await renderPlate({ style: 'us', text: 'ABC123' }, 200)).png;
    for (const name of ['train-mine', 'openalpr-us', 'ccpd', 'cn-plate-crops', 'openalpr-eu', 'my-crops']) {
      await mkdir(join(dir, name, 'images'), { recursive: true });
      await writeFile(join(dir, name, 'images', 'a.png'), png);
      await writeFile(
        join(dir, name, 'labels.csv'),
        'file,plate,region\nimages/a.png,ABC123,US\nimages/a.png,XYZ999,US\n',
      );
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a train-* folder: every labelled crop, as a 48-px strip', async () => {
    const crops = await trainingCrops([join(dir, 'train-mine')], alphabet);
    assert.deepEqual(
      crops.map((c) => [c.id, c.plate]),
      [
        ['train-mine/images/a.png', 'ABC123'],
        ['train-mine/images/a.png', 'XYZ999'],
      ],
    );
    const strip = await toStrip(await crops[0]!.load(), null);
    assert.equal(strip.height, REC_HEIGHT);
    assert.equal(strip.data.length, strip.width * REC_HEIGHT * 3);
  });

  it('refuses every evaluation folder (and anything not named train-*), naming it', async () => {
    for (const name of ['openalpr-us', 'openalpr-eu', 'ccpd', 'cn-plate-crops', 'my-crops']) {
      await assert.rejects(
        trainingCrops([join(dir, 'train-mine'), join(dir, name)], alphabet),
        (err: unknown) => err instanceof TrainingDataError && err.message.includes(name),
      );
    }
  });

  it('splits by plate text, the same way for the same seed (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 10 }), fc.nat(), (plate, seed) => {
        assert.equal(isValidation(plate, seed), isValidation(plate, seed));
      }),
    );
    const held = Array.from({ length: 2000 }, (_, i) => `P${i}`).filter((p) => isValidation(p, 7)).length;
    assert.ok(held > 140 && held < 260, `about 10% held back, got ${held} of 2000`);
  });

  it('renders the same plates for the same seed, and augments reproducibly', async () => {
    const a = renderedPlates(3, 5, trainingStyles).map((c) => [c.id, c.plate]);
    assert.deepEqual(
      renderedPlates(3, 5, trainingStyles).map((c) => [c.id, c.plate]),
      a,
    );
    assert.notDeepEqual(
      renderedPlates(3, 6, trainingStyles).map((c) => c.plate),
      a.map(([, p]) => p),
    );
    const png = await renderedPlates(1, 5, trainingStyles)[0]!.load();
    const x = await toStrip(png, new SeededRandom(3));
    const y = await toStrip(png, new SeededRandom(3));
    assert.deepEqual(Buffer.from(x.data), Buffer.from(y.data));
  });

  it('renders every one-row style by default, each label in the full plate alphabet', () => {
    assert.deepEqual(
      trainingStyles,
      plateStyles.filter((s) => !s.endsWith('-two-row')),
    );
    assert.ok(
      trainingStyles.includes('de') && trainingStyles.includes('br-mercosur') && trainingStyles.includes('cn-police'),
    );
    const plates = renderedPlates(4, 9, trainingStyles);
    assert.equal(plates.length, 4 * trainingStyles.length);
    const symbols = new Set(plateAlphabet().symbols);
    for (const p of plates) {
      assert.match(p.id, /^render\/[a-z-]+\/\d+$/);
      for (const ch of p.plate)
        assert.ok(symbols.has(ch), `${p.id}: "${ch}" of ${p.plate} is not in the plate alphabet`);
    }
    assert.deepEqual(new Set(renderedPlates(2, 9, ['de', 'uk']).map((p) => p.id.split('/')[1])), new Set(['de', 'uk']));
  });

  it('--styles: refuses an unknown or a two-row style, naming it', () => {
    assert.deepEqual(parseTrainingStyles('de, br-mercosur,de'), ['de', 'br-mercosur']);
    assert.throws(
      () => parseTrainingStyles('de,xx'),
      (e: unknown) => e instanceof TrainingDataError && /"xx"/.test(e.message),
    );
    assert.throws(
      () => parseTrainingStyles('cn-yellow-two-row'),
      (e: unknown) => e instanceof TrainingDataError && /"cn-yellow-two-row" is a two-row style/.test(e.message),
    );
    assert.throws(() => parseTrainingStyles(' , '), TrainingDataError);
  });
});
