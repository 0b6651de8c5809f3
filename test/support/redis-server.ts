/**
 * A test's own `redis-server` on a free loopback port, nothing persisted, so that a test can stop it, restart it
 * (empty) and never share state with another test or the machine's Redis.
 *
 * Contract: `startRedisServer()` fails (never skips) when `redis-server` cannot be started — CI must go red when the
 * Redis tests cannot run.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`; append `/<db>` for another database. */
  readonly url: string;
  /** Stops the server (SIGKILL: like a crash, no goodbye to clients). */
  stop(): Promise<void>;
  /** Starts a new, empty server on the same port. */
  restart(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing answers — a hung Redis. */
  pause(): void;
  /** Lets a paused server answer again (SIGCONT). */
  resume(): void;
  /** Runs one command through redis-cli (e.g. `['DBSIZE']`) and returns its raw output. */
  cli(...args: string[]): string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function launch(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'yes',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`redis-server on port ${port} did not start within 10 s: ${output}`)),
      10_000,
    );
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start redis-server (is it installed and on PATH?): ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code} before it was ready: ${output}`));
    });
    const poll = () => {
      const ping = spawnSync('redis-cli', ['-p', String(port), 'PING'], { encoding: 'utf8' });
      if (ping.stdout?.trim() === 'PONG') {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(child);
      } else setTimeout(poll, 20);
    };
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    setTimeout(poll, 20);
  });
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined = await launch(port);
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    async restart() {
      await stop();
      child = await launch(port);
    },
    pause() {
      if (!child?.kill('SIGSTOP')) throw new Error('redis-server is not running');
    },
    resume() {
      if (!child?.kill('SIGCONT')) throw new Error('redis-server is not running');
    },
    cli(...args) {
      const result = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`redis-cli ${args.join(' ')} failed: ${result.stderr}`);
      return result.stdout.trim();
    },
  };
}
