/**
 * The `platepay` command line. Each command has --help; --json prints one
 * JSON document on stdout and nothing else there (progress goes to stderr).
 */
import { UsageError } from './args.js';

interface Command {
  run(argv: string[]): Promise<number>;
}

/**
 * The commands, each with its one-line summary; a command's module is loaded only when it runs, so
 * `platepay scene` or `platepay --help` does not load the cloud, the models or the benchmarks.
 */
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  demo: {
    summary: 'run a cloud and a gate unit with rendered cars, end to end',
    load: async () => (await import('./demo-command.js')).demoCommand,
  },
  read: {
    summary: 'read the plates in image files',
    load: async () => (await import('./read-command.js')).readCommand,
  },
  eval: {
    summary: 'measure accuracy and speed on a labelled dataset',
    load: async () => (await import('./eval-command.js')).evalCommand,
  },
  scene: {
    summary: 'render a synthetic car scene with a plate (to try the reader)',
    load: async () => (await import('./scene-command.js')).sceneCommand,
  },
  cloud: {
    summary: 'run the cloud service (HTTP API)',
    load: async () => (await import('./cloud-command.js')).cloudCommand,
  },
  ledger: {
    summary: 'signed ledger: export, verify, witness, reconcile, keygen',
    load: async () => (await import('./ledger-command.js')).ledgerCommand,
  },
  bench: {
    summary: 'benchmarks (bench/results/NAME.json)',
    load: async () => (await import('./bench-command.js')).benchCommand,
  },
  edge: {
    summary: 'run a gate unit (cameras, lanes, barriers, uplink)',
    load: async () => (await import('./edge-command.js')).edgeCommand,
  },
  keys: {
    summary: 'generate a gate unit key pair',
    load: async () => (await import('./keys-command.js')).keysCommand,
  },
  train: {
    summary: 'fine-tune the plate recogniser, or fit the plate-or-not classifier, on train-* crops and renders',
    load: async () => (await import('./train-command.js')).trainCommand,
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `usage: platepay <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun "platepay <command> --help" for a command's options.\n`;
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    process.stderr.write(`platepay: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`platepay ${name}: ${err.message}\n`);
      return 2;
    }
    const e = err as Error & { code?: string };
    process.stderr.write(`platepay ${name}: ${e.code ? `[${e.code}] ` : ''}${e.message}\n`);
    return 1;
  }
}
