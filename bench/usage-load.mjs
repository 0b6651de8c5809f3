// Load generator, run in its own process by sandbox-usage.ts: GET usage over many ICCIDs with autocannon.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const { url, token, iccids, connections, duration, base } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let next = 0;
const result = await autocannon({
  url,
  connections,
  duration,
  headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  requests: [
    {
      method: 'GET',
      setupRequest(request) {
        request.path = `${base}/sims/${iccids[next++ % iccids.length]}/usage`;
        return request;
      },
    },
  ],
});
process.stdout.write(
  JSON.stringify({
    requestsPerSecond: result.requests.average,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }),
);
