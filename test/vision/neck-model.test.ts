/**
 * The neck model file (edge/vision/neck-model.ts): written and read back it
 * gives the same neck and head; a file of another schema or shape, with a
 * wrong head or a non-finite weight, is refused. And the reader's `plate`
 * recogniser (the shipped models/plate-neck.json patched into the rec
 * model) reads rendered plates in scenes.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PlateAlphabet } from '../../edge/vision/ctc-decoder.js';
import { ModelFiles } from '../../edge/vision/model-files.js';
import { neckModelFromFile, neckModelToFile } from '../../edge/vision/neck-model.js';
import type { NeckModel } from '../../edge/vision/neck-model.js';
import { PlateHead } from '../../edge/vision/plate-head.js';
import { PlateNeck } from '../../edge/vision/plate-neck.js';
import { PlateReader } from '../../edge/vision/plate-reader.js';
import { randomSceneSpec } from '../../scenes/random-scene.js';
import { plainText, renderScene } from '../../scenes/scene-renderer.js';

describe('neck model file', () => {
  const files = new ModelFiles();
  let alphabet: PlateAlphabet;
  let generic: NeckModel;

  before(() => {
    const dictionary = files.bytes('dict').toString('utf8').replace(/\r/g, '').split('\n');
    if (dictionary[dictionary.length - 1] === '') dictionary.pop();
    alphabet = new PlateAlphabet(dictionary);
    generic = {
      neck: PlateNeck.fromGeneric(files.bytes('rec')),
      head: PlateHead.fromGeneric(files.bytes('rec'), dictionary, alphabet),
    };
  });

  it('round-trips the neck and the head', () => {
    const file = JSON.parse(JSON.stringify(neckModelToFile(generic, { note: 'test' })));
    const back = neckModelFromFile(file, alphabet);
    assert.deepEqual([...back.neck.parameters], [...generic.neck.parameters]);
    assert.deepEqual([...back.head.weights], [...generic.head.weights]);
    assert.deepEqual(file.card, { note: 'test' });
  });

  it('refuses another schema, another shape, a wrong head and a non-finite weight', () => {
    const file = neckModelToFile(generic, {});
    assert.throws(() => neckModelFromFile({ ...file, schema: 'x' }, alphabet), /not a platepay-plate-neck\/1 file/);
    assert.throws(() => neckModelFromFile({ ...file, shape: { ...file.shape, hidden: 61 } }, alphabet), /shape/);
    assert.throws(() => neckModelFromFile({ ...file, head: { ...file.head, symbols: ['A'] } }, alphabet), /symbols/);
    const bytes = Buffer.from(file.neck, 'base64');
    bytes.writeFloatLE(NaN, 400);
    assert.throws(() => neckModelFromFile({ ...file, neck: bytes.toString('base64') }, alphabet), /not finite/);
    const short = Buffer.from(file.neck, 'base64').subarray(4);
    assert.throws(() => neckModelFromFile({ ...file, neck: short.toString('base64') }, alphabet), /parameters/);
  });

  it('the plate recogniser (neck and head) reads rendered plates in scenes', { timeout: 120_000 }, async () => {
    const reader = await PlateReader.create({ threads: 2, recognizerKind: 'plate' });
    let right = 0;
    for (const [i, style] of (['us', 'eu', 'cn-blue', 'us'] as const).entries()) {
      const spec = randomSceneSpec(style, 900 + i, 'easy');
      const reads = await reader.read((await renderScene(spec)).jpeg);
      if (reads[0]?.text === plainText(spec.plate.text)) right++;
    }
    assert.ok(right >= 3, `${right} of 4 read right`);
  });
});
