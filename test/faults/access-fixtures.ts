/** What the access tests share: an attempted request, unknown ids, and the operator routes with who may use them. */
import { GateKey } from '../../proto/v1/gate-key.js';
import { tariff } from '../cloud/cloud-harness.js';

export const PASSWORD = 'correct horse battery';

export const unknownId = (prefix: string) => `${prefix}_${'0'.repeat(32)}`;

export interface Attempt {
  name: string;
  method: string;
  path: string;
  body?: unknown;
}

/** the error message with ids taken out, to compare "another's" with "missing" */
export const withoutIds = (message: string) => message.replace(/[a-z]{3}_[0-9a-f]{32}/g, 'ID');

/** Every operator, admin and ledger route, with bodies valid for their schemas. */
export function operatorRoutes(ids: {
  lotId: string;
  laneId: string;
  settlementId: string;
}): Array<Attempt & { write: boolean }> {
  return [
    { name: 'list lots', method: 'GET', path: '/v1/lots', write: false },
    { name: 'read a lot', method: 'GET', path: `/v1/lots/${ids.lotId}`, write: false },
    { name: 'list reviews', method: 'GET', path: '/v1/reviews', write: false },
    { name: 'list disputes', method: 'GET', path: '/v1/disputes?status=open', write: false },
    { name: 'ledger checkpoint', method: 'GET', path: '/v1/ledger/checkpoint', write: false },
    { name: 'ledger checkpoints', method: 'GET', path: '/v1/ledger/checkpoints', write: false },
    { name: 'ledger records', method: 'GET', path: '/v1/ledger/records?start=0&end=1', write: false },
    { name: 'ledger leaves', method: 'GET', path: '/v1/ledger/leaves?start=0&end=1', write: false },
    { name: 'inclusion proof', method: 'GET', path: '/v1/ledger/proofs/inclusion?index=0&size=1', write: false },
    { name: 'consistency proof', method: 'GET', path: '/v1/ledger/proofs/consistency?from=1&to=1', write: false },
    { name: 'ledger receipt', method: 'GET', path: `/v1/ledger/receipts/${ids.settlementId}`, write: false },
    { name: 'create a lot', method: 'POST', path: '/v1/lots', body: { name: 'P9', tariff }, write: true },
    {
      name: 'change a tariff',
      method: 'PUT',
      path: `/v1/lots/${ids.lotId}/tariff`,
      body: { ...tariff, unitPrice: 1 },
      write: true,
    },
    {
      name: 'add a lane',
      method: 'POST',
      path: `/v1/lots/${ids.lotId}/lanes`,
      body: { name: 'x', direction: 'exit' },
      write: true,
    },
    {
      name: 'add a gate',
      method: 'POST',
      path: `/v1/lots/${ids.lotId}/gates`,
      body: { name: 'g', publicKey: GateKey.generate().publicKey },
      write: true,
    },
    { name: 'revoke a gate', method: 'POST', path: `/v1/gates/${unknownId('gat')}/revoke`, write: true },
    {
      name: 'submit a lane event',
      method: 'POST',
      path: '/v1/events',
      body: { eventId: 'acc-ev', laneId: ids.laneId, plate: 'ACC1234', confidence: 0.99, at: 0 },
      write: true,
    },
    {
      name: 'resolve a review',
      method: 'POST',
      path: `/v1/reviews/${unknownId('rev')}/resolve`,
      body: { action: 'dismiss' },
      write: true,
    },
    {
      name: 'resolve a dispute',
      method: 'POST',
      path: `/v1/disputes/${unknownId('dsp')}/resolve`,
      body: { outcome: 'transfer' },
      write: true,
    },
    { name: 'make an API key', method: 'POST', path: '/v1/keys', body: { role: 'admin', label: 'mine' }, write: true },
    { name: 'list API keys', method: 'GET', path: '/v1/keys', write: true },
    { name: 'revoke an API key', method: 'DELETE', path: `/v1/keys/${unknownId('key')}`, write: true },
  ];
}
