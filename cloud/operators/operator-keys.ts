/**
 * Operator API keys with roles: `admin` (everything, including keys),
 * `operator` (lots, lanes, gates, tariffs, events, reviews, disputes) and
 * `auditor` (read only). Keys are random secrets stored as SHA-256 digests;
 * the secret is shown once, when the key is made.
 */
import type { Clock } from '../../time/clock.js';
import { conflict, notFound, unauthorized } from '../errors.js';
import { newId } from '../ids.js';
import { checkedName } from '../names.js';
import type { OperatorKey, OperatorRole, Store } from '../storage/repositories.js';
import { digestSecret, newSecret } from '../accounts/secrets.js';

export class OperatorKeys {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async create(role: OperatorRole, label: string): Promise<{ key: OperatorKey; secret: string }> {
    const checkedLabel = checkedName(label, 'label');
    const secret = newSecret('ppkey');
    return this.store.transaction(async (repos) => {
      const key: OperatorKey = {
        id: newId('key'),
        keyHash: digestSecret(secret),
        role,
        label: checkedLabel,
        createdAt: this.clock.now(),
        revokedAt: null,
      };
      await repos.operators.insertKey(key);
      return { key, secret };
    });
  }

  /** Installs `secret` as an admin key unless it is already known (first start, from configuration). */
  async ensureAdmin(secret: string): Promise<void> {
    await this.store.transaction(async (repos) => {
      if (await repos.operators.keyByHash(digestSecret(secret))) return;
      await repos.operators.insertKey({
        id: newId('key'),
        keyHash: digestSecret(secret),
        role: 'admin',
        label: 'bootstrap admin (configuration)',
        createdAt: this.clock.now(),
        revokedAt: null,
      });
    });
  }

  async authenticate(secret: string): Promise<OperatorKey> {
    const key = await this.store.transaction((repos) => repos.operators.keyByHash(digestSecret(secret)));
    if (!key) throw unauthorized('the API key is not valid');
    if (key.revokedAt !== null) throw unauthorized('the API key has been revoked');
    return key;
  }

  /** Whether a key that authenticated earlier (a long-lived stream's) is still known and not revoked. */
  async stillValid(key: OperatorKey): Promise<boolean> {
    const stored = await this.store.transaction((repos) => repos.operators.keyByHash(key.keyHash));
    return stored !== null && stored.revokedAt === null;
  }

  async list(): Promise<OperatorKey[]> {
    return this.store.transaction((repos) => repos.operators.keys());
  }

  async revoke(id: string, by: OperatorKey): Promise<void> {
    if (id === by.id) throw conflict('CANNOT_REVOKE_SELF', 'an admin cannot revoke the key it is using');
    await this.store.transaction(async (repos) => {
      const key = (await repos.operators.keys()).find((k) => k.id === id);
      if (!key) throw notFound('API key', id);
      await repos.operators.revokeKey(id, this.clock.now());
    });
  }
}
