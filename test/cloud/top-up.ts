/**
 * Funding a wallet in the tests as a driver does: a top-up paid with the
 * built-in test provider's card (`test_card_ok`), then waiting until the
 * provider's signed webhook has credited it (a top-up never changes the
 * balance by itself).
 */
export type DriverCall = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

export async function topUpAndWait(
  call: DriverCall,
  accountId: string,
  amount: number,
  reference = 'r',
  timeoutMs = 20_000,
): Promise<void> {
  const r = await call('POST', `/v1/me/accounts/${accountId}/top-ups`, {
    amount,
    reference,
    paymentMethod: 'test_card_ok',
  });
  if (r.status !== 202) throw new Error(`top-up: ${r.status} ${JSON.stringify(r.body)}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { accounts } = (await call('GET', '/v1/me/accounts')).body as {
      accounts: Array<{ id: string; pendingTopUps: unknown[] }>;
    };
    if (accounts.find((a) => a.id === accountId)?.pendingTopUps.length === 0) return;
    if (Date.now() > deadline) throw new Error(`top-up ${reference} was not confirmed within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
