/**
 * The raw ceiling: node:http answering every request with the same pre-serialised response bytes (captured from our
 * gateway's answer to the scenario's query by the runner and passed in the file named by CEILING_BODY_FILE).
 * It reads the request body (as any server must) and does nothing else.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = readFileSync(process.env.CEILING_BODY_FILE!);
const headers = {
  'content-type': 'application/graphql-response+json; charset=utf-8',
  'content-length': String(body.length),
};
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`BENCH_LISTENING ${(server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
