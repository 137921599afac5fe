// The gateway as a separate process (`node dist/server.js`, what `npm start` runs), on a fixed
// port so a restarted process keeps the address the simulator delivers to, and with the same
// topics, so a restart continues where the killed one stopped. Each start logs to its own file.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { Cleanup } from './cleanup.ts';
import { sleep } from './cleanup.ts';

export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const SERVER_ENTRY = join(ROOT, 'dist/server.js');

/** The Node running us: the devDependency's under npm scripts, Node 26 under npm run test:node26. */
export const NODE_BIN = process.execPath;

export interface GatewayProcessOptions {
  port: number;
  /** the admin listener (ADMIN_PORT), fixed too so the admin URL survives restarts */
  adminPort: number;
  env: Record<string, string>;
  /** log files are `${logPrefix}-<n>.log` (n = start number) */
  logPrefix: string;
  cleanup: Cleanup;
}

export class GatewayProcess {
  readonly port: number;
  readonly url: string;
  /** where /v1/* and /metrics are served */
  readonly adminUrl: string;
  readonly #o: GatewayProcessOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #unregister: (() => Promise<void>) | undefined;
  starts = 0;
  readonly logs: string[] = [];
  /** exit codes / signals of every process that ended */
  readonly exits: string[] = [];

  constructor(o: GatewayProcessOptions) {
    if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} does not exist: run \`npx tsc -p tsconfig.build.json\` (npm run drill and npm test do)`);
    this.#o = o;
    this.port = o.port;
    this.url = `http://127.0.0.1:${o.port}`;
    this.adminUrl = `http://127.0.0.1:${o.adminPort}`;
  }

  /** the environment it starts with: a second replica (drill e) starts with the same */
  get env(): Record<string, string> {
    return this.#o.env;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    const c = this.#child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** Spawns the process and waits until /readyz answers 200 (Kafka connected, store loaded). */
  async start(readyWithinMs = 60_000): Promise<{ readyMs: number }> {
    if (this.running) throw new Error('gateway already running');
    this.starts += 1;
    const log = `${this.#o.logPrefix}-${this.starts}.log`;
    this.logs.push(log);
    const fd = openSync(log, 'w');
    const t0 = performance.now();
    const child = spawn(NODE_BIN, ['--disable-warning=TimeoutNegativeWarning', SERVER_ENTRY], {
      env: { PATH: process.env.PATH ?? '', ...this.#o.env, HOST: '127.0.0.1', PORT: String(this.port), ADMIN_PORT: String(this.#o.adminPort) },
      stdio: ['ignore', fd, fd],
      cwd: ROOT,
    });
    closeSync(fd);
    this.#child = child;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exits.push(signal ?? `exit ${code}`);
        resolve();
      });
    });
    this.#unregister = this.#o.cleanup.add(`gateway pid ${child.pid}`, () => this.stop(), () => (this.running ? child.pid : undefined));
    const deadline = Date.now() + readyWithinMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`gateway exited (${this.exits.at(-1)}) before it was ready; see ${log}`);
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1000) });
        last = `HTTP ${res.status} ${(await res.text()).slice(0, 300)}`;
        if (res.status === 200) return { readyMs: performance.now() - t0 };
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(100);
    }
    throw new Error(`gateway not ready within ${readyWithinMs / 1000} s (${last}); see ${log}`);
  }

  /** kill -9: no shutdown hook runs, in-flight requests die with their sockets. */
  async kill9(): Promise<void> {
    const c = this.#child;
    if (c === undefined || !this.running) return;
    c.kill('SIGKILL');
    await this.#exited;
    await this.#unregister?.();
  }

  /** SIGTERM (graceful drain), SIGKILL after `graceMs`. */
  async stop(graceMs = 25_000): Promise<void> {
    const c = this.#child;
    if (c === undefined || !this.running) return;
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(t);
  }
}
