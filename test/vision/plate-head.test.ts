/**
 * The plate head (edge/vision/plate-head.ts) and the ONNX editing it needs
 * (edge/vision/onnx-graph.ts), on the real PP-OCRv4 rec model: the model
 * with its features exposed still gives the same output; the head built
 * from the generic model reads rendered plates as the generic output does;
 * a head file round-trips and a wrong or tampered one is refused.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { before, describe, it } from 'node:test';
import { PlateAlphabet, decodeGreedy } from '../../edge/vision/ctc-decoder.js';
import { ModelFiles } from '../../edge/vision/model-files.js';
import { constantTensor, withGraphOutput } from '../../edge/vision/onnx-graph.js';
import { createSession } from '../../edge/vision/onnx-session.js';
import { FEATURES, FEATURE_OUTPUT, PlateHead } from '../../edge/vision/plate-head.js';
import { TextRecognizer } from '../../edge/vision/text-recognizer.js';
import type { TextCrop } from '../../edge/vision/rectifier.js';
import { toStrip } from '../../training/crop-dataset.js';
import { renderPlate } from '../../scenes/plate-renderer.js';
import type { PlateStyle } from '../../scenes/plate-renderer.js';

describe('plate head on the real rec model', { timeout: 120_000 }, () => {
  const files = new ModelFiles();
  let dictionary: string[];
  let alphabet: PlateAlphabet;
  let generic: TextRecognizer;
  let withHead: TextRecognizer;
  let head: PlateHead;
  let strips: TextCrop[];
  const plates: Array<[PlateStyle, string]> = [
    ['us', '7ABC123'],
    ['eu', 'BA 123XY'],
    ['cn-blue', '皖A12345'],
    ['cn-green', '粤BD12345'],
    ['us', 'KMB0R4K'],
  ];

  before(async () => {
    dictionary = files.bytes('dict').toString('utf8').replace(/\r/g, '').split('\n');
    if (dictionary[dictionary.length - 1] === '') dictionary.pop();
    alphabet = new PlateAlphabet(dictionary);
    head = PlateHead.fromGeneric(files.bytes('rec'), dictionary, alphabet);
    const patched = await createSession(withGraphOutput(files.bytes('rec'), FEATURE_OUTPUT), { intraOp: 2 });
    generic = new TextRecognizer(await createSession(files.bytes('rec'), { intraOp: 2 }), alphabet);
    withHead = new TextRecognizer(patched, alphabet, undefined, head);
    strips = await Promise.all(
      plates.map(async ([style, text]) => toStrip((await renderPlate({ style, text }, 300)).png, null)),
    );
  });

  it('reads the head weights of the model: [120, 6625] and [6625]', () => {
    const w = constantTensor(files.bytes('rec'), 'linear_85.w_0');
    assert.deepEqual(w.dims, [FEATURES, 6625]);
    assert.equal(constantTensor(files.bytes('rec'), 'linear_85.b_0').data.length, 6625);
    assert.throws(() => constantTensor(files.bytes('rec'), 'no_such_tensor'), /no node produces/);
  });

  it('the head made from the generic model reads each rendered plate as the generic output does', async () => {
    const a = await generic.recognize(strips);
    const b = await withHead.recognize(strips);
    for (const [i, [, text]] of plates.entries()) {
      const ga = decodeGreedy(a[i]!, alphabet);
      const gb = decodeGreedy(b[i]!, alphabet);
      assert.equal(gb.text, ga.text, `${text}: generic ${ga.text}, head ${gb.text}`);
    }
  });

  it('exposes the features without changing the model output', async () => {
    const f = await withHead.features(strips.slice(0, 1));
    assert.equal(f[0]!.features.length, f[0]!.steps * FEATURES);
    assert.ok(f[0]!.features.some((v) => v !== 0));
  });

  it('round-trips a head file and refuses a wrong one', () => {
    const file = head.toFile({ note: 'test' });
    const again = PlateHead.fromFile(JSON.parse(JSON.stringify(file)), alphabet);
    assert.deepEqual([...again.weights], [...head.weights]);
    assert.throws(() => PlateHead.fromFile({ ...file, schema: 'x' }, alphabet), /not a platepay-plate-head/);
    assert.throws(() => PlateHead.fromFile({ ...file, symbols: file.symbols.slice(1) }, alphabet), /symbols differ/);
    assert.throws(
      () => PlateHead.fromFile({ ...file, parameters: file.parameters.slice(8) }, alphabet),
      /parameter bytes/,
    );
    const nan = Buffer.from(file.parameters, 'base64');
    nan.writeFloatLE(NaN, 0);
    assert.throws(() => PlateHead.fromFile({ ...file, parameters: nan.toString('base64') }, alphabet), /not finite/);
  });
  it('completes a head trained without the special series from the generic head, keeping its own columns', () => {
    const core = alphabet.symbols.filter((s) => !'警学挂使领港澳应急'.includes(s));
    assert.equal(alphabet.symbols.length, core.length + 9, 'the alphabet has the nine special-series characters');
    // a file written before they joined the alphabet: the first symbols only
    const cols = core.length + 1;
    const weights = Float32Array.from({ length: FEATURES * cols }, (_, i) => ((i % 11) - 5) * 0.01);
    const bias = Float32Array.from({ length: cols }, (_, c) => c * 0.001);
    const old = PlateHead.fromFile(new PlateHead(core, weights, bias).toFile({}), alphabet);
    assert.equal(old.columns, cols);
    const done = old.completedFrom(head);
    assert.deepEqual(done.symbols, alphabet.symbols);
    for (let c = 0; c < done.columns; c++) {
      const from = c < cols ? old : head;
      assert.equal(done.bias[c], from.bias[c], `bias of column ${c}`);
      for (const f of [0, 57, FEATURES - 1])
        assert.equal(done.weights[f * done.columns + c], from.weights[f * from.columns + c], `weight ${f}, ${c}`);
    }
    // fewer symbols than the core, or symbols in another order, are refused
    assert.throws(
      () => PlateHead.fromFile({ ...old.toFile({}), symbols: core.slice(0, -1) }, alphabet),
      /symbols differ/,
    );
    assert.throws(() => head.completedFrom(old), /not the first symbols/);
  });

  it('the shipped neck recogniser reads rendered special-series plates once completed (警 港 使 应急)', async () => {
    const { neckModelFromFile } = await import('../../edge/vision/neck-model.js');
    const shipped = neckModelFromFile(JSON.parse(files.bytes('plate-neck').toString('utf8')), alphabet);
    const completed = shipped.head.completedFrom(head);
    const patched = shipped.neck.patch(files.bytes('rec'));
    const plate = new TextRecognizer(
      await createSession(withGraphOutput(patched, FEATURE_OUTPUT), { intraOp: 2 }),
      alphabet,
      undefined,
      completed,
    );
    const series: Array<[PlateStyle, string]> = [
      ['cn-police', '粤A1234警'],
      ['cn-hk', '粤Z0407港'],
      ['cn-embassy', '使244040'],
      ['cn-emergency', '吉A4074应急'],
    ];
    const crops = await Promise.all(
      series.map(async ([style, text]) => toStrip((await renderPlate({ style, text }, 300)).png, null)),
    );
    const matrices = await plate.recognize(crops);
    series.forEach(([, text], i) => assert.equal(decodeGreedy(matrices[i]!, alphabet).text, text));
  });

  it('blends two heads in weight space: the ends are the heads, the logits mix linearly (property)', () => {
    const shifted = new PlateHead(
      head.symbols,
      head.weights.map((v, i) => v + ((i % 7) - 3) * 0.01),
      head.bias.map((v, i) => v - (i % 5) * 0.02),
    );
    assert.deepEqual([...PlateHead.blend(head, shifted, 0).weights], [...head.weights]);
    assert.deepEqual([...PlateHead.blend(head, shifted, 1).bias], [...shifted.bias]);
    const features = Float32Array.from({ length: FEATURES }, (_, f) => Math.sin(f));
    const logOf = (h: PlateHead) => Array.from(h.probs(features, 1), (p) => Math.log(p));
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (alpha) => {
        const mixed = logOf(PlateHead.blend(head, shifted, alpha));
        const a = logOf(head);
        const b = logOf(shifted);
        // log-probabilities of the blend = the blend of the log-probabilities, up to one normalising constant
        const offset = mixed[0]! - ((1 - alpha) * a[0]! + alpha * b[0]!);
        mixed.forEach((m, c) => assert.ok(Math.abs(m - ((1 - alpha) * a[c]! + alpha * b[c]!) - offset) < 1e-3));
      }),
      { numRuns: 20 },
    );
    assert.throws(() => PlateHead.blend(head, shifted, 1.5), /alpha must be in \[0, 1\]/);
  });
});
