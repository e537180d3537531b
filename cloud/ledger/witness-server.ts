/**
 * The witness over HTTP (`platepay ledger witness`): `POST /cosign` with
 * `{note, oldSize, proof: [base64...]}` returns `{cosignature}` (one
 * signature line to append to the note); `GET /state` returns the last
 * cosigned size and root. Refusals are 409 (`SIZE_MISMATCH`, with the
 * witness's size so the log can resend) or 422 (`BAD_SIGNATURE`,
 * `WRONG_ORIGIN`, `ROLLBACK`, `FORK`).
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { installErrorHandling } from '../api/http-errors.js';
import { ApiError } from '../errors.js';
import type { Witness } from './witness.js';
import { WitnessError } from './witness.js';

export async function buildWitnessServer(
  witness: Witness,
  logger: boolean | Record<string, unknown> = false,
): Promise<FastifyInstance> {
  const app = Fastify({ logger, bodyLimit: 1024 * 1024 });
  installErrorHandling(app);
  app.get('/state', async () => ({ ...(witness.state ?? { size: 0, root: null }), origin: witness.origin }));
  app.post<{ Body: { note: string; oldSize: number; proof: string[] } }>(
    '/cosign',
    {
      schema: {
        body: {
          type: 'object',
          properties: {
            note: { type: 'string', minLength: 1, maxLength: 64 * 1024 },
            oldSize: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
            proof: { type: 'array', maxItems: 128, items: { type: 'string', pattern: '^[A-Za-z0-9+/]{43}=$' } },
          },
          required: ['note', 'oldSize', 'proof'],
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      try {
        const line = witness.cosign(
          request.body.note,
          request.body.oldSize,
          request.body.proof.map((p) => Buffer.from(p, 'base64')),
        );
        return { cosignature: line };
      } catch (err) {
        if (err instanceof WitnessError) {
          const status = err.code === 'SIZE_MISMATCH' ? 409 : 422;
          throw new WitnessApiError(status, err.code, err.message, err.witnessSize);
        }
        throw err;
      }
    },
  );
  await app.ready();
  return app;
}

class WitnessApiError extends ApiError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly witnessSize: number,
  ) {
    super(status, code, `${message} (witness size ${witnessSize})`);
  }
}
