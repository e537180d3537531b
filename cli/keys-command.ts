/** `platepay keys generate --out FILE`: a gate unit's Ed25519 key pair. */
import { writeFile } from 'node:fs/promises';
import { parseCommandArgs, UsageError } from './args.js';
import { GateKey } from '../proto/v1/gate-key.js';

const help = `usage: platepay keys generate --out FILE [--json]

Makes a gate unit's Ed25519 key: the private key goes to FILE (mode 0600,
never overwritten); the public key is printed, to register the gate with
the cloud (POST /v1/lots/:lotId/gates {"name", "publicKey"}).
`;

export const keysCommand = {
  async run(argv: string[]): Promise<number> {
    const [sub, ...rest] = argv;
    const { values } = parseCommandArgs(rest, {
      out: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help || sub === '--help' || sub === '-h') {
      process.stdout.write(help);
      return 0;
    }
    if (sub !== 'generate') throw new UsageError(`unknown keys command "${sub ?? ''}"\n\n${help}`);
    if (!values.out) throw new UsageError('--out FILE is required');
    const key = GateKey.generate();
    await writeFile(values.out, key.format(), { mode: 0o600, flag: 'wx' });
    process.stdout.write(
      values.json ? JSON.stringify({ file: values.out, publicKey: key.publicKey }) + '\n' : `${key.publicKey}\n`,
    );
    return 0;
  },
};
