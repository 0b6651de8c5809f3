// Scenario 2's floor, in its own process (as a gateway would be): `node lib/floor.mjs <job.json>`. The same calls a cold
// 50-SIM screen makes (details, usage, top-ups, history per SIM) through one undici Pool of `connections`, no GraphQL,
// no parsing, no cache: the wall time this machine and sandbox allow any gateway. Prints one JSON line { walls: [ms…] }.
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const pool = new Pool(job.origin, { connections: job.connections });
const headers = { authorization: `Bearer ${job.token}`, accept: 'application/json' };
const screen = async (iccids) => {
  const t0 = performance.now();
  await Promise.all(
    iccids.flatMap((iccid) =>
      ['', '/usage', '/topups', '/packages'].map((suffix) =>
        pool
          .request({ method: 'GET', path: `${job.basePath}/sims/${iccid}${suffix}`, headers })
          .then((r) => r.body.text()),
      ),
    ),
  );
  return performance.now() - t0;
};
await screen(job.warm); // connections and code, outside the measurement
const walls = [];
for (const iccids of job.runs) walls.push(await screen(iccids));
await pool.close();
process.stdout.write(`${JSON.stringify({ walls })}\n`);
