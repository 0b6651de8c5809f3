/**
 * Child processes: each benchmark server in its own Node process (so RSS and CPU are per server), and the load
 * generator in another. Servers announce readiness on stdout; the runner reads RSS/CPU from /proc. For the Redis-backed
 * variants and the fleet scenario: a redis-server of the runner's own, and a round-robin proxy in front of replicas.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_KEY } from './queries.ts';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface RunningServer {
  name: string;
  url: string;
  pid: number;
  /** resident set size now, bytes */
  rss(): number;
  /** peak resident set size, bytes */
  peakRss(): number;
  /** user + system CPU time so far, ms */
  cpuMs(): number;
  /** full, memory-releasing GC in the server (SIGUSR2 → gc-hook.mjs); resolves once the server reports it done */
  gc(): Promise<void>;
  stop(): Promise<void>;
  stderrTail(): string;
}

export interface ServerLaunch {
  name: string;
  /** script + args after `node --expose-gc --import ./servers/gc-hook.mjs` */
  args: string[];
  env: Record<string, string>;
  /** for servers that cannot listen on port 0 (Hive Gateway): pass the port in args/env yourself */
  readyPattern?: RegExp;
  extraNodeFlags?: string[];
}

const READY = /BENCH_LISTENING (\d+)|Listening on http:\/\/[\d.]+:(\d+)/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the ESC of ANSI colour codes is the point
const ANSI = /\x1b\[[0-9;]*m/g;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11] = utime, fields[12] = stime (clock ticks; 100 Hz on Linux)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

export function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production' };
}

export async function startServer(launch: ServerLaunch, timeoutMs = 90_000): Promise<RunningServer> {
  const args = ['--expose-gc', '--import', './servers/gc-hook.mjs', ...(launch.extraNodeFlags ?? []), ...launch.args];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: BENCH_DIR,
    env: launch.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  let gcsDone = 0; // BENCH_GC_DONE lines from gc-hook.mjs
  child.stderr!.on('data', (c: Buffer) => {
    const text = c.toString();
    gcsDone += text.split('BENCH_GC_DONE').length - 1;
    stderr = (stderr + text).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${launch.name}: not listening after ${timeoutMs} ms\n${stderr}`)),
      timeoutMs,
    );
    const onData = (c: Buffer) => {
      stdout = (stdout + c.toString().replace(ANSI, '')).slice(-4000);
      const m = (launch.readyPattern ?? READY).exec(stdout);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(Number(m[1] ?? m[2]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => onData(c)); // some servers log their address on stderr
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${launch.name}: exited with ${code} before listening\n${stderr.slice(-2000)}\n${stdout.slice(-1000)}`,
        ),
      );
    });
  });
  const pid = child.pid!;
  return {
    name: launch.name,
    url: `http://127.0.0.1:${port}`,
    pid,
    rss: () => procStatus(pid, 'VmRSS'),
    peakRss: () => procStatus(pid, 'VmHWM'),
    cpuMs: () => procCpuMs(pid),
    async gc() {
      const before = gcsDone;
      child.kill('SIGUSR2');
      const deadline = Date.now() + 60_000;
      while (gcsDone === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200)); // the kernel's view of the released pages
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
    stderrTail: () => stderr.slice(-2000),
  };
}

/**
 * Request bodies of one weighted group: fixed bodies taken in turn, or (`distinct`) a new body per request — `size`
 * distinct ICCIDs drawn from `pool` as the variables of `query`, so no two requests of a run are alike.
 */
export type LoadGroup =
  | { weight: number; bodies: string[] }
  | {
      weight: number;
      distinct: { operationName: string; query: string; pool: string[]; size: number; seed?: number };
    };

export interface LoadJob {
  mode: 'autocannon' | 'sequential';
  url: string;
  connections?: number;
  duration?: number;
  amount?: number;
  groups: Array<LoadGroup>;
  countErrors?: boolean;
  errorMarkers?: string[];
  headers?: Record<string, string>;
  /** Per-field freshness counts over every response (see lib/load.mjs). */
  fieldStats?: string[];
}

export interface LoadResult {
  requestsPerSecond: number;
  latencyP50: number;
  latencyP99: number;
  latencyAvg: number;
  total: number;
  durationSeconds: number;
  /** With `countErrors`: from the load's start to its last response (ms precision; `durationSeconds` is whole seconds). */
  elapsedSeconds?: number;
  non2xx: number;
  socketErrors: number;
  timeouts: number;
  gqlErrors: number | null;
  checkedResponses: number | null;
  /** With `fieldStats`: per field, values answered fresh / stale / null, and nulls of a value answered before. */
  fields?: Record<string, { fresh: number; stale: number; null: number; lost: number }>;
}

/** Runs lib/load.mjs in its own process. */
export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const file = path.join(tmpdir(), `bench-load-${process.pid}-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify({ headers: { 'x-api-key': API_KEY }, ...job }));
  const child = spawn(process.execPath, [path.join(BENCH_DIR, 'lib', 'load.mjs'), file], {
    cwd: BENCH_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`load generator failed (${code}): ${err.slice(-2000)}`);
  return JSON.parse(out.trim().split('\n').pop()!) as LoadResult;
}

export interface BenchRedis {
  url: string;
  /** FLUSHALL: every server that uses Redis starts as cold as one that does not. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** One inline Redis command over a fresh connection; resolves with the first reply line. */
function redisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(2_000, () => socket.destroy(new Error(`redis ${command}: no answer`)));
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.once('data', (chunk: Buffer) => {
      resolve(chunk.toString().split('\r\n')[0]!);
      socket.end();
    });
  });
}

/** A redis-server of the runner's own on a free port, nothing persisted; throws when redis-server cannot start. */
export async function startRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`cannot start redis-server (is it installed?): ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pong = await Promise.race([redisCommand(port, 'PING').catch(() => ''), failed]);
    if (pong === '+PONG') break;
    if (Date.now() > deadline) throw new Error('redis-server did not answer PING within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  failed.catch(() => {});
  process.once('exit', () => child.kill('SIGKILL')); // never outlives the runner, whatever ends it
  return {
    url: `redis://127.0.0.1:${port}`,
    async flush() {
      const reply = await redisCommand(port, 'FLUSHALL');
      if (reply !== '+OK') throw new Error(`redis FLUSHALL: ${reply}`);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface RoundRobinProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * A small HTTP load balancer for the fleet scenario: each request goes to the next target in turn, over keep-alive
 * connections to the targets (and to the client), bodies streamed through.
 */
export function startRoundRobinProxy(targets: string[]): Promise<RoundRobinProxy> {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  let next = 0;
  const server = createHttpServer((req, res) => {
    const target = new URL(targets[next++ % targets.length]!);
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${error.message}`);
    });
    req.pipe(forward);
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
            agent.destroy();
          }),
      });
    });
  });
}
