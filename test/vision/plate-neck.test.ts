/**
 * The plate neck (edge/vision/plate-neck.ts) on the real PP-OCRv4 rec
 * model: the TypeScript forward pass of the generic neck (batch norms
 * folded) gives the features onnxruntime computes; a changed neck patched
 * into the model's Constant nodes runs in onnxruntime and agrees with the
 * TypeScript forward pass to about 1e-4; the rest of the model is untouched.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PlateAlphabet } from '../../edge/vision/ctc-decoder.js';
import { ModelFiles } from '../../edge/vision/model-files.js';
import { withGraphOutput } from '../../edge/vision/onnx-graph.js';
import { createSession } from '../../edge/vision/onnx-session.js';
import { FEATURES, FEATURE_OUTPUT } from '../../edge/vision/plate-head.js';
import { NECK_INPUT, NECK_SHAPE, PlateNeck, neckFeatures, neckForward } from '../../edge/vision/plate-neck.js';
import type { TextCrop } from '../../edge/vision/rectifier.js';
import { TextRecognizer } from '../../edge/vision/text-recognizer.js';
import { renderPlate } from '../../scenes/plate-renderer.js';
import { SeededRandom } from '../../scenes/seeded-random.js';
import { toStrip } from '../../training/crop-dataset.js';

describe('plate neck on the real rec model', { timeout: 120_000 }, () => {
  const files = new ModelFiles();
  let alphabet: PlateAlphabet;
  let strips: TextCrop[];

  before(async () => {
    const dictionary = files.bytes('dict').toString('utf8').replace(/\r/g, '').split('\n');
    if (dictionary[dictionary.length - 1] === '') dictionary.pop();
    alphabet = new PlateAlphabet(dictionary);
    strips = await Promise.all([
      toStrip((await renderPlate({ style: 'us', text: '7ABC123' }, 300)).png, null), // narrower than 320: padded
      toStrip((await renderPlate({ style: 'eu', text: 'BA 123XY' }, 420)).png, null),
    ]);
  });

  /** The largest difference between onnxruntime's features and the TypeScript neck over them. */
  async function disagreement(recModel: Buffer, neck: PlateNeck): Promise<{ max: number; scale: number }> {
    const session = await createSession(withGraphOutput(withGraphOutput(recModel, NECK_INPUT), FEATURE_OUTPUT), {
      intraOp: 2,
    });
    const recognizer = new TextRecognizer(session, alphabet);
    let max = 0;
    let scale = 0;
    for (const strip of strips) {
      const [inputs] = await recognizer.neckInputs([strip]);
      const [onnx] = await recognizer.features([strip]);
      const { input, columns, steps } = inputs!;
      assert.equal(steps, onnx!.steps);
      const ours = neckFeatures(NECK_SHAPE, neckForward(NECK_SHAPE, neck, input, columns, steps).a2, steps);
      assert.equal(ours.length, steps * FEATURES);
      ours.forEach((v, i) => {
        max = Math.max(max, Math.abs(v - onnx!.features[i]!));
        scale = Math.max(scale, Math.abs(v));
      });
    }
    return { max, scale };
  }

  it('the generic neck, batch norms folded, computes the features onnxruntime does', async () => {
    const neck = PlateNeck.fromGeneric(files.bytes('rec'));
    const { max, scale } = await disagreement(files.bytes('rec'), neck);
    assert.ok(scale > 0.1, `features are not all near zero (${scale})`);
    assert.ok(max < 1e-4, `largest difference ${max}`);
  });

  it('a changed neck patched into the Constant nodes runs in onnxruntime as the TypeScript forward pass', async () => {
    const random = new SeededRandom(5);
    const generic = PlateNeck.fromGeneric(files.bytes('rec')).parameters;
    const changed = PlateNeck.fromParameters(
      generic.map((v) => v * random.between(0.7, 1.3) + random.between(-0.01, 0.01)),
    );
    const patched = changed.patch(files.bytes('rec'));
    assert.equal(patched.length, files.bytes('rec').length);
    const { max } = await disagreement(patched, changed);
    assert.ok(max < 1e-4, `largest difference ${max}`);
    // read back from the patched model, the neck is the one written
    const back = PlateNeck.fromGeneric(patched).parameters;
    const written = changed.parameters;
    const worst = back.reduce((m, v, i) => Math.max(m, Math.abs(v - written[i]!)), 0);
    assert.ok(worst < 1e-5, `round trip differs by ${worst}`);
    // and the bytes outside the neck's tensors are the original's
    const original = files.bytes('rec');
    let differing = 0;
    for (let i = 0; i < original.length; i++) if (original[i] !== patched[i]) differing++;
    assert.ok(differing <= 4 * generic.length + 4 * 180, `${differing} bytes changed`);
  });
});
