/**
 * The seeded data set: SIMs, their purchases (initial order + top-ups, which double as orders and
 * package-history entries) and their live usage. Same seed + same start time → same data.
 */
import { OPERATORS, type OperatorDef, type PackageDef, triggerCode } from './catalog.ts';
import { createRandom, type Random, randomInt } from './prng.ts';
import type { SimStatus } from './types.ts';

export type HistoryStatus = 'NOT_ACTIVE' | 'ACTIVE' | 'FINISHED' | 'EXPIRED';

/** One purchase: an order and, at the same time, one package-history entry of its SIM. */
export interface Purchase {
  id: number;
  sim: SimRecord;
  pkg: PackageDef;
  description: string | null;
  createdAt: number;
  status: HistoryStatus;
  remainingMb: number;
  activatedAt: number | null;
  expiredAt: number | null;
  finishedAt: number | null;
}

export interface SimRecord {
  id: number;
  iccid: string;
  createdAt: number;
  operator: OperatorDef;
  matchingId: string;
  confirmationCode: string | null;
  recycledAt: number | null;
  /** Live usage (what a fresh usage read reports). */
  status: SimStatus;
  isUnlimited: boolean;
  totalMb: number;
  remainingMb: number;
  totalVoice: number;
  remainingVoice: number;
  totalText: number;
  remainingText: number;
  usageExpiredAt: number | null;
  /** Oldest first; [0] is the order that created the SIM. */
  purchases: Purchase[];
}

const DAY = 86_400_000;
/** Cumulative weights: ~60% ACTIVE, 12% NOT_ACTIVE, 10% FINISHED, 10% EXPIRED, 5% RECYCLED, 3% UNKNOWN. */
const STATUS_WEIGHTS: ReadonlyArray<readonly [SimStatus, number]> = [
  ['ACTIVE', 0.6],
  ['NOT_ACTIVE', 0.72],
  ['FINISHED', 0.82],
  ['EXPIRED', 0.92],
  ['RECYCLED', 0.97],
  ['UNKNOWN', 1],
];
/** The first SIMs cover every status and operator, so even a 12-SIM data set has the whole mix. */
const FIRST_STATUSES: readonly SimStatus[] = ['ACTIVE', 'NOT_ACTIVE', 'FINISHED', 'EXPIRED', 'RECYCLED', 'UNKNOWN'];
const COUNTRY_PREFIXES = ['44', '10', '34', '33', '49', '91'];
const ALPHANUM = 'ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789';
const DESCRIPTIONS = ['Order for customer', 'Travel pack', 'Booking', 'Reseller order'];

/** Top-ups the seeded history may contain (never the trigger packages). */
const BUYABLE = new Map(OPERATORS.map((op) => [op, op.topups.filter((p) => triggerCode(p.id) === null)]));

function pickStatus(random: Random): SimStatus {
  const r = random();
  for (const [status, upTo] of STATUS_WEIGHTS) if (r < upTo) return status;
  return 'ACTIVE';
}

/** `count` (≤ 18) random decimal digits, from two draws. */
function digits(random: Random, count: number): string {
  const high = Math.floor(random() * 1e9)
    .toString()
    .padStart(9, '0');
  const low = Math.floor(random() * 1e9)
    .toString()
    .padStart(9, '0');
  return (high + low).slice(0, count);
}

/** "ABCDE-FGHIJ-KLMNO-PQRST", from four draws. */
function matchingId(random: Random): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g++) {
    let n = Math.floor(random() * 35 ** 5);
    let group = '';
    for (let i = 0; i < 5; i++) {
      group += ALPHANUM[n % 35];
      n = Math.floor(n / 35);
    }
    groups.push(group);
  }
  return groups.join('-');
}

function purchaseStatus(simStatus: SimStatus, newest: boolean): HistoryStatus {
  switch (simStatus) {
    case 'ACTIVE':
      return newest ? 'ACTIVE' : 'FINISHED';
    case 'NOT_ACTIVE':
      return 'NOT_ACTIVE';
    case 'FINISHED':
      return 'FINISHED';
    default:
      return 'EXPIRED';
  }
}

/**
 * The data set is compact up front (ICCIDs and one seed per SIM) and materialises a SIM, with its
 * purchases, the first time it is touched — so 100k SIMs cost a few hundred ms, not seconds.
 * Order ids: the k-th seeded purchase of SIM i is 9001 + 4·i + k (gaps are normal: other partners'
 * orders interleave); submitted top-ups continue after the last seeded id.
 */
export class DataSet {
  readonly iccids: string[];
  private readonly indexByIccid = new Map<string, number>();
  private readonly seeds: Uint32Array;
  private readonly materialised: Array<SimRecord | undefined>;
  /** Top-ups submitted through the API, oldest first. */
  readonly submitted: Purchase[] = [];
  nextOrderId: number;

  constructor(
    seed: number,
    readonly simCount: number,
    private readonly now: number,
  ) {
    const random = createRandom(seed);
    this.iccids = new Array<string>(simCount);
    this.seeds = new Uint32Array(simCount);
    this.materialised = new Array<SimRecord | undefined>(simCount);
    for (let i = 0; i < simCount; i++) {
      let iccid: string;
      do {
        // "89" + country + issuer + serial: 19 or 20 digits in all
        iccid = `89${COUNTRY_PREFIXES[Math.floor(random() * COUNTRY_PREFIXES.length)]}${digits(random, random() < 0.5 ? 15 : 16)}`;
      } while (this.indexByIccid.has(iccid));
      this.iccids[i] = iccid;
      this.indexByIccid.set(iccid, i);
      this.seeds[i] = Math.floor(random() * 4294967296);
    }
    this.nextOrderId = FIRST_ORDER_ID + MAX_SEEDED_PURCHASES * simCount;
  }

  sim(index: number): SimRecord {
    let sim = this.materialised[index];
    if (sim === undefined) {
      sim = materialiseSim(index, this.iccids[index]!, this.seeds[index]!, this.simCount, this.now);
      this.materialised[index] = sim;
    }
    return sim;
  }

  simByIccid(iccid: string): SimRecord | undefined {
    const index = this.indexByIccid.get(iccid);
    return index === undefined ? undefined : this.sim(index);
  }

  orderById(id: number): Purchase | undefined {
    const seededEnd = FIRST_ORDER_ID + MAX_SEEDED_PURCHASES * this.simCount;
    if (id >= seededEnd) return this.submitted.find((p) => p.id === id);
    if (!Number.isInteger(id) || id < FIRST_ORDER_ID) return undefined;
    const offset = id - FIRST_ORDER_ID;
    const purchase = this.sim(Math.floor(offset / MAX_SEEDED_PURCHASES)).purchases[offset % MAX_SEEDED_PURCHASES];
    return purchase !== undefined && purchase.id === id ? purchase : undefined;
  }

  /** Every order, newest (highest id) first. */
  *ordersNewestFirst(): Generator<Purchase> {
    for (let i = this.submitted.length - 1; i >= 0; i--) yield this.submitted[i]!;
    for (let s = this.simCount - 1; s >= 0; s--) {
      const purchases = this.sim(s).purchases;
      for (let k = purchases.length - 1; k >= 0; k--)
        if (purchases[k]!.id < FIRST_ORDER_ID + MAX_SEEDED_PURCHASES * this.simCount) yield purchases[k]!;
    }
  }

  /** The SIMs materialised so far (read, bought or touched): the ones a clock-driven check looks at. */
  *materialisedSims(): Generator<SimRecord> {
    for (const sim of this.materialised) if (sim !== undefined) yield sim;
  }

  /** Every SIM, newest (highest id) first. */
  *simsNewestFirst(): Generator<SimRecord> {
    for (let i = this.simCount - 1; i >= 0; i--) yield this.sim(i);
  }
}

const FIRST_ORDER_ID = 9001;
const MAX_SEEDED_PURCHASES = 4;

export function generateDataSet(seed: number, simCount: number, now: number): DataSet {
  return new DataSet(seed, simCount, now);
}

function materialiseSim(i: number, iccid: string, simSeed: number, simCount: number, now: number): SimRecord {
  const random = createRandom(simSeed);
  const span = 400 * DAY;
  const start = now - span - 30 * DAY;
  const operator = i < 12 ? OPERATORS[i % OPERATORS.length]! : OPERATORS[Math.floor(random() * OPERATORS.length)]!;
  const status = i < 6 ? 'ACTIVE' : i < 12 ? FIRST_STATUSES[i - 6]! : pickStatus(random);
  const createdAt = start + Math.floor((span * i) / Math.max(1, simCount)) + Math.floor(random() * 3_600_000);
  const sim: SimRecord = {
    id: 11_000 + i,
    iccid,
    createdAt,
    operator,
    matchingId: matchingId(random),
    confirmationCode: random() < 0.3 ? digits(random, 4) : null,
    recycledAt: status === 'RECYCLED' ? now - randomInt(random, 1, 60) * DAY : null,
    status,
    isUnlimited: operator.initial.isUnlimited,
    totalMb: 0,
    remainingMb: 0,
    totalVoice: 0,
    remainingVoice: 0,
    totalText: 0,
    remainingText: 0,
    usageExpiredAt: null,
    purchases: [],
  };
  // earlier top-ups: none for operators without top-ups and for never-activated SIMs; otherwise 0-2
  // (half of the others have none; the first six ACTIVE SIMs have exactly one, when the operator sells top-ups)
  const canTopUp = operator.topups.length > 0 && status !== 'NOT_ACTIVE';
  const topupCount = !canTopUp ? 0 : i < 6 ? 1 : Math.max(0, randomInt(random, 0, 3) - 1);
  const packages: PackageDef[] = [operator.initial];
  const buyable = BUYABLE.get(operator)!;
  for (let t = 0; t < topupCount; t++) packages.push(buyable[Math.floor(random() * buyable.length)]!);

  let at = createdAt;
  for (let p = 0; p < packages.length; p++) {
    const pkg = packages[p]!;
    const newest = p === packages.length - 1;
    const pStatus = purchaseStatus(status, newest);
    const activatedAt = pStatus === 'NOT_ACTIVE' ? null : at + randomInt(random, 1, 48) * 3_600_000;
    // the newest package of an ACTIVE / FINISHED SIM is still within its validity; EXPIRED ones are past it
    let expiredAt = activatedAt === null ? null : activatedAt + pkg.days * DAY;
    if (newest && activatedAt !== null && (status === 'ACTIVE' || status === 'FINISHED')) {
      expiredAt = now + randomInt(random, 1, Math.max(1, pkg.days)) * DAY;
    }
    const remainingMb =
      pStatus === 'NOT_ACTIVE' ? pkg.amountMb : pStatus === 'ACTIVE' ? Math.floor(pkg.amountMb * random()) : 0;
    sim.purchases.push({
      id: FIRST_ORDER_ID + MAX_SEEDED_PURCHASES * i + p,
      sim,
      pkg,
      description: random() < 0.5 ? `${DESCRIPTIONS[Math.floor(random() * DESCRIPTIONS.length)]} ${sim.id}` : null,
      createdAt: at,
      status: pStatus,
      remainingMb,
      activatedAt,
      expiredAt,
      finishedAt: pStatus === 'FINISHED' || pStatus === 'EXPIRED' ? expiredAt : null,
    });
    at = Math.min(now - DAY, (activatedAt ?? at) + randomInt(random, 1, Math.max(1, pkg.days)) * DAY);
  }
  applyInitialUsage(sim, random);
  return sim;
}

function applyInitialUsage(sim: SimRecord, random: Random): void {
  const newest = sim.purchases[sim.purchases.length - 1]!;
  const pkg = newest.pkg;
  if (sim.status === 'RECYCLED') return; // all zeros, expired_at null
  sim.totalMb = pkg.amountMb;
  sim.totalVoice = pkg.voice ?? 0;
  sim.totalText = pkg.text ?? 0;
  sim.usageExpiredAt = newest.expiredAt;
  switch (sim.status) {
    case 'ACTIVE':
      sim.remainingMb = newest.remainingMb;
      sim.remainingVoice = Math.floor(sim.totalVoice * random());
      sim.remainingText = Math.floor(sim.totalText * random());
      break;
    case 'NOT_ACTIVE':
      sim.remainingMb = sim.totalMb;
      sim.remainingVoice = sim.totalVoice;
      sim.remainingText = sim.totalText;
      break;
    case 'EXPIRED':
      sim.remainingMb = Math.floor(sim.totalMb * random() * 0.5);
      break;
    case 'UNKNOWN':
      sim.usageExpiredAt = null;
      break;
    default:
      break;
  }
}
