/**
 * Plate or not in the reader, end to end through the real models: in
 * rendered scenes with badges, dealer names and signs beside the plate, the
 * classifier (models/plate-or-not.json) gives the plate's line a higher
 * plate probability than every other text line, and the plate still wins.
 * Scene seeds differ from those the classifier was trained on (7,000,000+).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PlateReader, newReadTrace } from '../../edge/vision/plate-reader.js';
import type { PlateStyle } from '../../scenes/plate-renderer.js';
import { randomSceneSpec } from '../../scenes/random-scene.js';
import { plainText, renderScene } from '../../scenes/scene-renderer.js';

const BADGES = ['JEEP', 'TOYOTA', 'CARMAX FORD', 'PENSKE', 'HYBRID', 'www.smithauto.com', 'CALIFORNIA'];

describe('plate or not in the reader', () => {
  let reader: PlateReader;
  before(async () => {
    reader = await PlateReader.create({ threads: 2 });
  });

  it('ranks the plate above badges and dealer text in rendered scenes', async () => {
    let plateLines = 0;
    let otherLines = 0;
    let right = 0;
    const styles: PlateStyle[] = ['us', 'eu', 'cn-blue'];
    for (let i = 0; i < 6; i++) {
      const style = styles[i % styles.length]!;
      const spec = { ...randomSceneSpec(style, 500 + i, 'easy'), distractors: [BADGES[i]!, BADGES[(i + 3) % 7]!] };
      const scene = await renderScene(spec);
      const trace = newReadTrace();
      const reads = await reader.read(scene.jpeg, {}, trace);
      if (reads[0]?.text === plainText(spec.plate.text)) right++;
      const plate = trace.candidates.filter((c) => c.text === scene.text);
      const others = trace.candidates.filter((c) => c.text.length >= 3 && !scene.text.includes(c.text.slice(0, 3)));
      for (const c of plate) {
        assert.ok(c.plateProbability !== null && c.plateProbability > 0.5, `plate ${c.text}: ${c.plateProbability}`);
        plateLines++;
      }
      for (const c of others) {
        assert.ok(
          c.plateProbability !== null && c.plateProbability < 0.5,
          `not a plate ${c.text}: ${c.plateProbability}`,
        );
        otherLines++;
      }
    }
    assert.ok(plateLines >= 5, `plate lines seen: ${plateLines}`);
    assert.equal(right, 6, 'every plate read right');
    // the reader stops once a plate is read confidently, so other lines are read only sometimes
    assert.ok(otherLines + plateLines >= 6);
  });

  it('can be turned off (weight 0): no classifier, no probability', async () => {
    const off = await PlateReader.create({ threads: 2, plateOrNotWeight: 0 });
    const scene = await renderScene(randomSceneSpec('us', 510, 'easy'));
    const trace = newReadTrace();
    await off.read(scene.jpeg, {}, trace);
    assert.ok(trace.candidates.length > 0);
    assert.ok(trace.candidates.every((c) => c.plateProbability === null));
    await assert.rejects(PlateReader.create({ plateOrNotWeight: -1 }), /plateOrNotWeight must be a number >= 0/);
  });
});
