/**
 * Who is calling: `Authorization: Bearer <secret>`. Driver tokens start with
 * `pptok_`, operator API keys with `ppkey_`. Route handlers declare what
 * they need with `requireDriver` or `requireRole(...)`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DriverService } from '../accounts/driver-service.js';
import { forbidden, unauthorized } from '../errors.js';
import type { OperatorKeys } from '../operators/operator-keys.js';
import type { Driver, OperatorKey, OperatorRole } from '../storage/repositories.js';

declare module 'fastify' {
  interface FastifyRequest {
    driver: Driver | null;
    operatorKey: OperatorKey | null;
  }
}

/** The secret of `Authorization: Bearer <secret>`; 401 when there is none. */
export function bearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header) throw unauthorized();
  const m = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header);
  if (!m) throw unauthorized('the Authorization header must be "Bearer <token or API key>"');
  return m[1]!;
}

export function requireDriver(drivers: DriverService) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const secret = bearer(request);
    if (!secret.startsWith('pptok_')) throw forbidden('this route is for drivers (a driver bearer token)');
    request.driver = await drivers.authenticate(secret);
  };
}

export function requireRole(keys: OperatorKeys, ...roles: OperatorRole[]) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const secret = bearer(request);
    if (!secret.startsWith('ppkey_')) throw forbidden('this route is for operators (an API key)');
    const key = await keys.authenticate(secret);
    if (!roles.includes(key.role))
      throw forbidden(`this route needs the role ${roles.join(' or ')}; the key is ${key.role}`);
    request.operatorKey = key;
  };
}
