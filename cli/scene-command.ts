/** `platepay scene --out FILE [--style S] [--seed N] [--easy]`: renders a synthetic car scene to try the reader on. */
import { writeFile } from 'node:fs/promises';
import { parseCommandArgs, positiveInteger, UsageError } from './args.js';
import { renderScene } from '../scenes/scene-renderer.js';
import { randomSceneSpec } from '../scenes/random-scene.js';
import type { PlateStyle } from '../scenes/plate-renderer.js';
import { plateStyles as styles } from '../scenes/plate-renderer.js';

const help = `usage: platepay scene --out FILE.jpg [--style ${styles.join('|')}] [--seed N] [--easy] [--json]

Renders a synthetic 1280x720 car scene with a licence plate (the same
generator the tests, demo and benchmarks use) and writes it as JPEG. Prints
the plate text it drew, so you can compare with "platepay read FILE".

  --style S   plate style (default cn-blue)
  --seed N    scene seed; the same seed gives the same image (default 1)
  --easy      frontal, large, clean plate
  --json      print {"file", "plate", "plateQuad"} as JSON
`;

export const sceneCommand = {
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, {
      out: { type: 'string' },
      style: { type: 'string' },
      seed: { type: 'string' },
      easy: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(help);
      return 0;
    }
    if (!values.out) throw new UsageError('--out FILE is required\n\n' + help);
    const style = (values.style ?? 'cn-blue') as PlateStyle;
    if (!styles.includes(style)) throw new UsageError(`--style must be one of ${styles.join(', ')}, got "${style}"`);
    const seed = positiveInteger(values.seed, '--seed') ?? 1;
    const scene = await renderScene(randomSceneSpec(style, seed, values.easy ? 'easy' : 'varied'));
    await writeFile(values.out, scene.jpeg);
    if (values.json) {
      process.stdout.write(JSON.stringify({ file: values.out, plate: scene.text, plateQuad: scene.plateQuad }) + '\n');
    } else {
      process.stdout.write(`${values.out}: ${style} plate ${scene.text} (seed ${seed})\n`);
    }
    return 0;
  },
};
