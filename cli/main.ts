/**
 * The `platepay` command line. Each command has --help; --json prints one
 * JSON document on stdout and nothing else there (progress goes to stderr).
 */
import { readCommand } from './read-command.js';
import { evalCommand } from './eval-command.js';
import { sceneCommand } from './scene-command.js';
import { cloudCommand } from './cloud-command.js';
import { ledgerCommand } from './ledger-command.js';
import { benchCommand } from './bench-command.js';
import { edgeCommand } from './edge-command.js';
import { keysCommand } from './keys-command.js';
import { demoCommand } from './demo-command.js';
import { trainCommand } from './train-command.js';
import { UsageError } from './args.js';

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, Command> = {
  demo: demoCommand,
  read: readCommand,
  eval: evalCommand,
  scene: sceneCommand,
  cloud: cloudCommand,
  ledger: ledgerCommand,
  bench: benchCommand,
  edge: edgeCommand,
  keys: keysCommand,
  train: trainCommand,
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
  const command = commands[name];
  if (!command) {
    process.stderr.write(`platepay: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
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
