/**
 * The upstream scheduler's metrics on the gateway's registry (README "How the scheduler decides"): calls waiting per
 * endpoint, how long queued calls waited (admitted or refused), calls refused by the budget per priority, and the
 * blocks upstream 429s imposed, by cause.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { PRIORITIES, type UpstreamScheduler } from '../domain/scheduler/index.ts';
import { UPSTREAM_ENDPOINTS } from '../upstream/index.ts';

export function registerSchedulerMetrics(registry: Registry, scheduler: UpstreamScheduler): void {
  new Gauge({
    name: 'gateway_upstream_queue_length',
    help: 'Upstream calls waiting for budget, by endpoint',
    labelNames: ['endpoint'],
    registers: [registry],
    collect() {
      const lengths = scheduler.queueLengths();
      for (const endpoint of UPSTREAM_ENDPOINTS) this.set({ endpoint }, lengths[endpoint] ?? 0);
    },
  });
  const waits = new Histogram({
    name: 'gateway_upstream_queue_wait_seconds',
    help: 'Time upstream calls waited for budget (clock time), by endpoint, priority and outcome (admitted, refused)',
    labelNames: ['endpoint', 'priority', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const refused = new Counter({
    name: 'gateway_upstream_calls_refused_total',
    help: 'Upstream calls the budget refused (nothing sent), by endpoint and priority',
    labelNames: ['endpoint', 'priority'],
    registers: [registry],
  });
  for (const priority of PRIORITIES) refused.inc({ endpoint: 'usage', priority }, 0);
  const blocks = new Counter({
    name: 'gateway_upstream_blocks_total',
    help: 'Blocks imposed by upstream 429s, by endpoint and cause (per-iccid, partner: the whole endpoint, all)',
    labelNames: ['endpoint', 'cause'],
    registers: [registry],
  });
  scheduler.observe({
    waited: (endpoint, priority, waitMs, outcome) => waits.observe({ endpoint, priority, outcome }, waitMs / 1000),
    refused: (endpoint, priority) => refused.inc({ endpoint, priority }),
    blocked: (endpoint, cause) => blocks.inc({ endpoint, cause }),
  });
}
