/**
 * Drivers: sign-up and sign-in (scrypt password hashes, expiring bearer
 * tokens), payment accounts (wallets), plate links and their disputes, and
 * what a driver may see of their own sessions, receipts and pending
 * payments.
 *
 * Invariants: a plate has at most one active link (a unique index backs
 * this up); linking a plate someone else holds is refused and may become a
 * dispute an operator decides, never a silent move; a driver reaches only
 * their own accounts, links, sessions and receipts.
 */
import type { Clock } from '../../time/clock.js';
import { ApiError, badRequest, conflict, notFound, unauthorized } from '../errors.js';
import { newId } from '../ids.js';
import { checkedName, checkedText } from '../names.js';
import { CURRENCY_EXPECTED, isCurrencyCode } from '../currencies.js';
import type { Settler } from '../settlement/settler.js';
import type { DriverCredit, DriverCreditView } from '../payments/driver-credit.js';
import type { TopUpAnswer, TopUps } from '../payments/top-ups.js';
import type {
  Driver,
  ParkingSession,
  PaymentAccount,
  PendingPayment,
  PlateDispute,
  PlateLink,
  Repositories,
  SavedPaymentMethod,
  Settlement,
  Store,
  TopUp,
} from '../storage/repositories.js';
import { normalisePlate, regionsOf } from '../../proto/plate-syntax.js';
import { checkedEmail, normaliseEmail } from './email-address.js';
import { LoginThrottle } from './login-throttle.js';
import { digestSecret, hashPassword, newSecret, verifyPassword } from './secrets.js';

export interface DriverServiceOptions {
  tokenTtlMs: number;
  /** currency of the wallet every new driver gets */
  defaultCurrency: string;
}

export interface AccountView extends PaymentAccount {
  balance: number;
  /** balance + the driver's unused credit (default currency only): what the wallet can still be charged */
  available: number;
  /** top-ups asked for and not yet confirmed by the provider: not in the balance */
  pendingTopUps: TopUp[];
  /** the saved payment method exits of this account's plates are charged on, if any */
  paymentMethod: Pick<SavedPaymentMethod, 'id' | 'provider' | 'label' | 'verifiedAt'> | null;
}

export interface Receipt {
  settlement: Settlement;
  ledgerIndex: number | null;
  record: string | null;
}

export class DriverService {
  /** sign-in attempts per (email, client address); see login-throttle.ts */
  private readonly loginThrottle: LoginThrottle;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly settler: Settler,
    private readonly credit: DriverCredit,
    private readonly topUps: TopUps,
    private readonly options: DriverServiceOptions,
  ) {
    this.loginThrottle = new LoginThrottle(clock);
  }

  async signUp(input: {
    email: string;
    password: string;
    name: string;
  }): Promise<{ driver: Driver; token: string; expiresAt: number }> {
    // checked before the password is hashed: refused input costs no scrypt
    const email = checkedEmail(input.email);
    const name = checkedName(input.name, 'name');
    const passwordHash = await hashPassword(input.password);
    return this.store.transaction(async (repos) => {
      if (await repos.drivers.byEmail(email)) throw conflict('EMAIL_TAKEN', 'a driver with this email already exists');
      const now = this.clock.now();
      const driver: Driver = { id: newId('drv'), email, name, passwordHash, createdAt: now };
      await repos.drivers.insert(driver);
      await repos.accounts.insert({
        id: newId('acc'),
        driverId: driver.id,
        kind: 'wallet',
        currency: this.options.defaultCurrency,
        creditLimit: 0, // credit is the driver's, by standing (driver-credit.ts), not a wallet's
        label: 'wallet',
        createdAt: now,
      });
      const { token, expiresAt } = await this.issueToken(repos, driver.id);
      return { driver, token, expiresAt };
    });
  }

  /**
   * Sign-in with email and password; `client` is the caller's address (the
   * request IP). Attempts are rate-limited per (email, client): over the
   * limit, 429 LOGIN_RATE_LIMITED before the password is checked (see
   * login-throttle.ts).
   */
  async signIn(
    input: {
      email: string;
      password: string;
    },
    client = 'unknown',
  ): Promise<{ driver: Driver; token: string; expiresAt: number }> {
    const email = normaliseEmail(input.email);
    this.loginThrottle.attempt(email, client);
    const driver = await this.store.transaction((repos) => repos.drivers.byEmail(email));
    // verify against a dummy hash when the email is unknown, so timing does not tell which emails exist
    const ok = await verifyPassword(input.password, driver?.passwordHash ?? DUMMY_HASH);
    if (!driver || !ok) throw new ApiError(401, 'BAD_CREDENTIALS', 'email or password is wrong');
    this.loginThrottle.succeeded(email, client);
    return this.store.transaction(async (repos) => ({ driver, ...(await this.issueToken(repos, driver.id)) }));
  }

  /** The driver a bearer token belongs to; 401 when it is unknown or expired. */
  async authenticate(token: string): Promise<Driver> {
    return this.store.transaction(async (repos) => {
      const stored = await repos.drivers.tokenByHash(digestSecret(token));
      if (!stored) throw unauthorized('the bearer token is not valid');
      if (stored.expiresAt <= this.clock.now())
        throw new ApiError(401, 'TOKEN_EXPIRED', 'the bearer token has expired');
      const driver = await repos.drivers.byId(stored.driverId);
      if (!driver) throw unauthorized('the bearer token is not valid');
      return driver;
    });
  }

  /** Signs out: the token is refused from now on. Other tokens of the driver (other devices) stay valid. */
  async signOut(token: string): Promise<void> {
    await this.store.transaction((repos) => repos.drivers.deleteToken(digestSecret(token)));
  }

  /** Signs the driver out everywhere: every token they hold, this one included, is refused from now on. */
  async signOutEverywhere(driver: Driver): Promise<void> {
    await this.store.transaction((repos) => repos.drivers.deleteTokensOfDriver(driver.id));
  }

  private async issueToken(repos: Repositories, driverId: string): Promise<{ token: string; expiresAt: number }> {
    const token = newSecret('pptok');
    const now = this.clock.now();
    const expiresAt = now + this.options.tokenTtlMs;
    await repos.drivers.deleteExpiredTokens(now);
    await repos.drivers.insertToken({ tokenHash: digestSecret(token), driverId, expiresAt });
    return { token, expiresAt };
  }

  async accounts(driver: Driver): Promise<AccountView[]> {
    return this.store.transaction(async (repos) => {
      const accounts = await repos.accounts.ofDriver(driver.id);
      return Promise.all(accounts.map((a) => this.view(repos, a)));
    });
  }

  async createAccount(driver: Driver, input: { currency: string; label: string }): Promise<AccountView> {
    const label = checkedName(input.label, 'label');
    if (!isCurrencyCode(input.currency)) {
      throw badRequest(
        'INVALID_CURRENCY',
        `currency: expected ${CURRENCY_EXPECTED}, got ${JSON.stringify(input.currency)}`,
        'currency',
      );
    }
    return this.store.transaction(async (repos) => {
      const account: PaymentAccount = {
        id: newId('acc'),
        driverId: driver.id,
        kind: 'wallet',
        currency: input.currency,
        creditLimit: 0, // a new wallet adds no credit: credit is the driver's, by standing
        label,
        createdAt: this.clock.now(),
      };
      await repos.accounts.insert(account);
      return this.view(repos, account);
    });
  }

  /**
   * Asks the payment provider for a top-up of one of the driver's wallets;
   * the balance changes only when the provider's webhook confirms it
   * (top-ups.ts). Idempotent by the driver's reference.
   */
  async topUp(
    driver: Driver,
    accountId: string,
    amount: number,
    reference: string,
    paymentMethod?: string,
  ): Promise<TopUpAnswer & { account: AccountView }> {
    const answer = await this.topUps.request(driver.id, { accountId, amount, reference, paymentMethod });
    const account = await this.store.transaction(async (repos) =>
      this.view(repos, await this.ownAccount(repos, driver, accountId)),
    );
    return { ...answer, account };
  }

  /** The driver's credit standing: score, limit, debt and what is still available. */
  async standing(driver: Driver): Promise<DriverCreditView> {
    return this.store.transaction((repos) => this.credit.of(repos, driver.id));
  }

  async linkPlate(driver: Driver, input: { plate: string; accountId: string }): Promise<PlateLink> {
    const plate = checkedPlate(input.plate);
    return this.store.transaction(async (repos) => {
      const account = await this.ownAccount(repos, driver, input.accountId);
      const holder = await repos.links.activeByPlate(plate);
      if (holder) {
        if (holder.driverId === driver.id) {
          throw conflict('PLATE_ALREADY_LINKED', 'you have already linked this plate; unlink it first to move it');
        }
        throw conflict(
          'PLATE_LINKED_ELSEWHERE',
          'this plate is linked to another driver; open a dispute (POST /v1/disputes) for an operator to decide',
        );
      }
      const link: PlateLink = {
        id: newId('lnk'),
        plate,
        accountId: account.id,
        driverId: driver.id,
        createdAt: this.clock.now(),
        removedAt: null,
      };
      await repos.links.insert(link);
      return link;
    });
  }

  async unlinkPlate(driver: Driver, linkId: string): Promise<void> {
    await this.store.transaction(async (repos) => {
      const link = await repos.links.byId(linkId);
      if (!link || link.driverId !== driver.id || link.removedAt !== null) throw notFound('plate link', linkId);
      await repos.links.remove(link.id, this.clock.now());
    });
  }

  async links(driver: Driver): Promise<PlateLink[]> {
    return this.store.transaction((repos) => repos.links.activeOfDriver(driver.id));
  }

  async openDispute(
    driver: Driver,
    input: { plate: string; accountId: string; reason: string },
  ): Promise<PlateDispute> {
    const plate = checkedPlate(input.plate);
    const reason = checkedText(
      input.reason,
      'reason',
      'INVALID_REASON',
      MAX_DISPUTE_REASON_LENGTH,
      'say why the plate is yours',
    );
    return this.store.transaction(async (repos) => {
      const account = await this.ownAccount(repos, driver, input.accountId);
      const holder = await repos.links.activeByPlate(plate);
      if (!holder) throw conflict('PLATE_NOT_LINKED', 'nobody holds this plate; link it directly');
      if (holder.driverId === driver.id) throw conflict('PLATE_ALREADY_LINKED', 'you already hold this plate');
      const open = (await repos.links.disputes('open')).find(
        (d) => d.plate === plate && d.claimantDriverId === driver.id,
      );
      if (open) throw conflict('DISPUTE_OPEN', `you already have an open dispute for this plate (${open.id})`);
      const dispute: PlateDispute = {
        id: newId('dsp'),
        plate,
        claimantDriverId: driver.id,
        claimantAccountId: account.id,
        holderLinkId: holder.id,
        reason,
        status: 'open',
        createdAt: this.clock.now(),
        resolvedAt: null,
      };
      await repos.links.insertDispute(dispute);
      return dispute;
    });
  }

  /** Operator decision on a dispute: `transfer` moves the plate to the claimant, `reject` leaves it. */
  async resolveDispute(disputeId: string, outcome: 'transfer' | 'reject'): Promise<PlateDispute> {
    return this.store.transaction(async (repos) => {
      const dispute = await repos.links.disputeById(disputeId);
      if (!dispute) throw notFound('dispute', disputeId);
      if (dispute.status !== 'open') throw conflict('DISPUTE_RESOLVED', `dispute ${disputeId} is already resolved`);
      const now = this.clock.now();
      if (outcome === 'transfer') {
        const holder = await repos.links.activeByPlate(dispute.plate);
        if (holder) await repos.links.remove(holder.id, now);
        await repos.links.insert({
          id: newId('lnk'),
          plate: dispute.plate,
          accountId: dispute.claimantAccountId,
          driverId: dispute.claimantDriverId,
          createdAt: now,
          removedAt: null,
        });
      }
      const status = outcome === 'transfer' ? 'transferred' : 'rejected';
      await repos.links.resolveDispute(dispute.id, status, now);
      return { ...dispute, status, resolvedAt: now };
    });
  }

  async disputes(status?: PlateDispute['status']): Promise<PlateDispute[]> {
    return this.store.transaction((repos) => repos.links.disputes(status));
  }

  /**
   * The driver's parking sessions: those of plates they hold now, from the
   * moment each link was made (a plate's earlier stays are another
   * driver's history, and linking proves nothing about them).
   */
  async sessions(driver: Driver): Promise<ParkingSession[]> {
    return this.store.transaction(async (repos) => {
      const links = await repos.links.activeOfDriver(driver.id);
      const since = new Map(links.map((l) => [l.plate, l.createdAt]));
      return (await repos.sessions.ofPlates([...since.keys()])).filter(
        (s) => s.entryAt >= (since.get(s.plate) ?? Infinity),
      );
    });
  }

  async receipts(driver: Driver): Promise<Receipt[]> {
    return this.store.transaction(async (repos) => {
      const settlements = await repos.settlements.ofDriver(driver.id);
      return Promise.all(settlements.map((s) => this.receiptOf(repos, s)));
    });
  }

  async receipt(driver: Driver, settlementId: string): Promise<Receipt> {
    return this.store.transaction(async (repos) => {
      const s = await repos.settlements.byId(settlementId);
      if (!s || s.driverId !== driver.id) throw notFound('receipt', settlementId);
      return this.receiptOf(repos, s);
    });
  }

  /** Pending payments for a plate (a driver paying for a car that is not linked). */
  async pendingPayments(plateInput: string): Promise<PendingPayment[]> {
    const plate = normalisePlate(plateInput);
    if (!plate) throw badRequest('INVALID_PLATE', 'plate must hold only letters, digits and a province character');
    return this.store.transaction(async (repos) =>
      (await repos.sessions.pendingPaymentsOfPlates([plate])).filter((p) => p.status === 'pending'),
    );
  }

  async payPending(driver: Driver, pendingId: string, accountId: string): Promise<Receipt> {
    return this.store.transaction(async (repos) => {
      const account = await this.ownAccount(repos, driver, accountId);
      const pending = await repos.sessions.pendingPaymentById(pendingId);
      if (!pending) throw notFound('pending payment', pendingId);
      if (pending.status !== 'pending') throw conflict('ALREADY_PAID', `pending payment ${pendingId} is already paid`);
      const result = await this.settler.payPending(repos, pending, { id: account.id, driverId: driver.id });
      if ('declined' in result)
        throw new ApiError(402, 'PAYMENT_DECLINED', `the payment was declined: ${result.declined}`);
      return this.receiptOf(repos, result.settlement);
    });
  }

  private async receiptOf(repos: Repositories, s: Settlement): Promise<Receipt> {
    const row = await repos.settlements.ledgerRecordOf(s.id);
    return { settlement: s, ledgerIndex: row?.index ?? null, record: row?.record ?? null };
  }

  private async ownAccount(repos: Repositories, driver: Driver, accountId: string): Promise<PaymentAccount> {
    const account = await repos.accounts.byId(accountId);
    if (!account || account.driverId !== driver.id) {
      // another driver's account is reported exactly like a missing one
      throw notFound('payment account', accountId);
    }
    return account;
  }

  private async view(repos: Repositories, a: PaymentAccount): Promise<AccountView> {
    const balance = await repos.accounts.balance(a.id);
    const credit = a.driverId ? await this.credit.available(repos, a.driverId, a.currency) : 0;
    const method = await repos.payments.methodOfAccount(a.id);
    return {
      ...a,
      balance,
      available: Math.max(0, balance) + credit,
      pendingTopUps: await this.topUps.pendingOf(repos, a.id),
      paymentMethod: method
        ? { id: method.id, provider: method.provider, label: method.label, verifiedAt: method.verifiedAt }
        : null,
    };
  }
}

/** The longest reason a plate dispute may give (characters). */
export const MAX_DISPUTE_REASON_LENGTH = 1000;

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/** A plate from a driver: normalised, and it must fit one of the supported regions' syntaxes. */
export function checkedPlate(input: string): string {
  const plate = normalisePlate(input);
  if (!plate) throw badRequest('INVALID_PLATE', 'plate must hold only letters, digits and a province character');
  if (regionsOf(plate).length === 0) {
    throw badRequest(
      'INVALID_PLATE',
      'plate fits no supported plate format (the countries and their formats are listed in the README)',
    );
  }
  return plate;
}
