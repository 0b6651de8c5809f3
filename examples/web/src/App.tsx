/**
 * "My eSIMs": the balance, the SIMs with usage bars, the top-ups of the selected SIM and a purchase flow. Each part
 * shows its own data or its own error (a response often carries both: a recycled SIM's top-ups fail at their path,
 * the rest of the page stays), and says how fresh it is (`fetchedAt`, `stale`).
 */
import { useState } from 'react';
import { type CombinedError, useClient, useQuery } from 'urql';
import { MyEsimsScreenDocument, type MyEsimsScreenQuery, SimTopupsDocument } from './__generated__/graphql.ts';
import { type PurchaseOutcome, purchaseTopup } from './purchase.ts';

type Sim = NonNullable<MyEsimsScreenQuery['simList']>['nodes'][number];
type Usage = NonNullable<Sim['usage']>;

/** The GraphQL error at exactly this path, if any. */
function errorAt(error: CombinedError | undefined, path: (string | number)[]) {
  return error?.graphQLErrors.find((e) => e.path?.length === path.length && e.path.every((p, i) => p === path[i]));
}

const time = (iso: string) => new Date(iso).toLocaleTimeString();

function Freshness({ fetchedAt, stale }: { fetchedAt: string; stale: boolean }) {
  return (
    <span className={stale ? 'freshness stale' : 'freshness'} title={fetchedAt}>
      {stale ? `stale — last read ${time(fetchedAt)}` : `as of ${time(fetchedAt)}`}
    </span>
  );
}

function UsageBar({ usage }: { usage: Usage }) {
  if (usage.totalMb == null || usage.remainingMb == null)
    return <span className="muted">unlimited / not reported</span>;
  return (
    <span className="usage">
      <meter className="bar" min={0} max={usage.totalMb} value={usage.remainingMb} low={usage.totalMb * 0.1} />
      <span className="remaining" data-testid="remaining-mb">
        {usage.remainingMb} / {usage.totalMb} MB
      </span>
    </span>
  );
}

export function App() {
  // `hasNext`: deferred parts (each SIM's usage) are still to come.
  const [{ data, error, fetching, hasNext }, refetch] = useQuery({
    query: MyEsimsScreenDocument,
    variables: { first: 10 },
  });
  const [selected, setSelected] = useState<string | undefined>();
  const nodes = data?.simList?.nodes ?? [];
  return (
    <main>
      <header>
        <h1>My eSIMs</h1>
        <section className="balance" data-testid="balance">
          {data?.balance ? (
            <>
              Balance{' '}
              <strong data-testid="balance-amount">
                {data.balance.available.amount} {data.balance.available.currency}
              </strong>{' '}
              <Freshness {...data.balance} />
            </>
          ) : (
            <span className="field-error">{errorAt(error, ['balance'])?.message ?? (fetching ? 'loading…' : '')}</span>
          )}
        </section>
      </header>
      {error?.networkError && <p className="field-error">Cannot reach the gateway: {error.networkError.message}</p>}
      <div className="columns">
        <section>
          <h2>
            SIMs <span className="muted">({data?.simList?.totalCount ?? '…'})</span>
          </h2>
          {errorAt(error, ['simList']) && <p className="field-error">{errorAt(error, ['simList'])!.message}</p>}
          <ul className="sims" data-testid="sim-list">
            {nodes.map((sim, i) => (
              <li key={sim.iccid} className={sim.iccid === selected ? 'selected' : ''} data-iccid={sim.iccid}>
                <button type="button" onClick={() => setSelected(sim.iccid)}>
                  <code>{sim.iccid}</code> {sim.recycled && <span className="badge">recycled</span>}
                </button>
                {sim.usage ? (
                  <div>
                    <span className="status">{sim.usage.status}</span> <UsageBar usage={sim.usage} />{' '}
                    <Freshness {...sim.usage} />
                  </div>
                ) : sim.usage === undefined && hasNext ? (
                  <div className="muted" data-testid="usage-pending">
                    usage…
                  </div>
                ) : (
                  <div className="field-error">
                    usage unavailable: {errorAt(error, ['simList', 'nodes', i, 'usage'])?.message ?? '—'}
                  </div>
                )}
              </li>
            ))}
          </ul>
        </section>
        <section>
          {selected ? (
            <Topups iccid={selected} onBought={() => refetch({ requestPolicy: 'network-only' })} />
          ) : (
            <p className="muted">Select a SIM to see its top-ups.</p>
          )}
        </section>
      </div>
      {/* Live alerts (subscription) plug in here: examples/web/README.md. */}
    </main>
  );
}

function Topups({ iccid, onBought }: { iccid: string; onBought: () => void }) {
  const client = useClient();
  const [{ data, error, fetching }] = useQuery({ query: SimTopupsDocument, variables: { iccid } });
  const [busy, setBusy] = useState<string | undefined>();
  const [attempt, setAttempt] = useState(0);
  const [outcome, setOutcome] = useState<PurchaseOutcome | undefined>();
  const topupError = errorAt(error, ['sim', 'topupPackages']);

  async function buy(packageId: string) {
    setBusy(packageId);
    setOutcome(undefined);
    const result = await purchaseTopup(client, iccid, packageId, setAttempt);
    setOutcome(result);
    setBusy(undefined);
    if (result.kind === 'result' && result.result.__typename === 'PurchaseTopupSuccess') onBought();
  }

  return (
    <div data-testid="topups">
      <h2>
        Top-ups for <code>{iccid}</code>
      </h2>
      {fetching && !data && <p className="muted">loading…</p>}
      {error?.networkError && <p className="field-error">{error.networkError.message}</p>}
      {topupError && (
        <p className="field-error" data-testid="topups-error">
          Top-ups unavailable ({String(topupError.extensions.code ?? 'ERROR')}): {topupError.message}
        </p>
      )}
      <ul className="packages">
        {data?.sim?.topupPackages?.map((p) => (
          <li key={p.id}>
            <span>
              {p.title} {p.validityDays != null && <span className="muted">· {p.validityDays} days</span>}
            </span>
            <button type="button" disabled={busy !== undefined} onClick={() => buy(p.id)} data-package={p.id}>
              {busy === p.id ? `buying… (attempt ${attempt})` : `Buy ${p.price.amount} ${p.price.currency}`}
            </button>
          </li>
        ))}
      </ul>
      {outcome && <Outcome outcome={outcome} />}
    </div>
  );
}

function Outcome({ outcome }: { outcome: PurchaseOutcome }) {
  if (outcome.kind === 'failed')
    return (
      <p className="field-error" data-testid="purchase-outcome">
        Not bought: {outcome.message}. Retrying later with the same intent is safe.
      </p>
    );
  const r = outcome.result;
  if (r.__typename === 'PurchaseTopupSuccess')
    return (
      <p className="ok" data-testid="purchase-outcome">
        Bought: order {r.order.code} for {r.order.price.amount} {r.order.price.currency}
        {r.sim.usage?.remainingMb != null && <> — {r.sim.usage.remainingMb} MB left</>}
        {outcome.attempts > 1 && (
          <>
            {' '}
            (after {outcome.attempts} attempts{r.replayed ? ', answered from the first' : ''})
          </>
        )}
      </p>
    );
  return (
    <p className="field-error" data-testid="purchase-outcome">
      Not bought ({r.code}): {r.message}
    </p>
  );
}
