/**
 * The v1 contract as one JSON Schema document (`proto/v1/schema.json`),
 * generated from the TypeBox schemas in messages.ts for other
 * implementations (a gate unit not written in TypeScript). `npm run proto`
 * rewrites it; a test fails when the committed file is not current.
 */
import { MAX_HANDSHAKE_BYTES, MAX_MESSAGE_BYTES, MAX_POLICY_BYTES, PROTOCOL_VERSION, schemas } from './messages.js';

export function schemaDocument(): string {
  const doc = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'platepay edge <-> cloud protocol',
    version: PROTOCOL_VERSION,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    maxPolicyBytes: MAX_POLICY_BYTES,
    maxHandshakeBytes: MAX_HANDSHAKE_BYTES,
    $defs: JSON.parse(JSON.stringify(schemas)) as unknown,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
