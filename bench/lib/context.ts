// What every scenario gets from the orchestrator: brokers, the admin client for the gate, the
// windows, where the system under test runs, where logs go.
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { KafkaAdmin } from './kafka.ts';
import { probeClient, probeNodeFlags, type Probe } from './loop-stats.ts';
import { freePort, jsonFromChild, startChild, type Placement } from './proc.ts';
import type { Windows } from './results.ts';

export interface BenchContext {
  root: string;
  brokers: string[];
  admin: KafkaAdmin;
  windows: Windows;
  /** taskset list for the system under test (core 0) */
  sutCpus: string;
  /** SUT core, load core and our processes on it (broker, this orchestrator) */
  where: Placement;
  /** this run's folder for logs and generated configs */
  runDir: string;
  log: (msg: string) => void;
}

/** Environment for Node children: kafkajs' negative-timeout warning silenced, as npm start does. */
export function nodeEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --disable-warning=TimeoutNegativeWarning`.trim(), ...extra };
}

/** Start a Node script of the repo pinned to the SUT core (same Node binary as the orchestrator). */
export function startNodeOnSut(ctx: BenchContext, script: string, args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}, logName?: string): ChildProcess {
  return startChild(process.execPath, [join(ctx.root, script), ...args], { cpus: ctx.sutCpus, env: nodeEnv(extraEnv), ...(logName ? { logFile: join(ctx.runDir, logName) } : {}) });
}

/**
 * A Node script (or dist/ file) of the repo pinned to the SUT core with the in-process probe
 * preloaded (bench/lib/loop-probe.ts: event-loop delay, GC pauses, memory), plus `nodeFlags`.
 */
export async function startProbedNodeOnSut(ctx: BenchContext, script: string, args: readonly string[], o: { env?: NodeJS.ProcessEnv; logName?: string; nodeFlags?: readonly string[] } = {}): Promise<{ child: ChildProcess; probe: Probe }> {
  const port = await freePort();
  const child = startChild(process.execPath, [...(o.nodeFlags ?? []), ...probeNodeFlags(ctx.root), join(ctx.root, script), ...args], {
    cpus: ctx.sutCpus,
    env: nodeEnv({ ...o.env, BENCH_PROBE_PORT: String(port) }),
    ...(o.logName ? { logFile: join(ctx.runDir, o.logName) } : {}),
  });
  return { child, probe: probeClient(port) };
}

/** Run a Node script on the SUT core that prints one JSON line as its result (stderr passes through). */
export function runJsonScript<T>(ctx: BenchContext, script: string, job: unknown, timeoutMs: number): Promise<T> {
  return jsonFromChild<T>(startNodeOnSut(ctx, script, [JSON.stringify(job)]), timeoutMs);
}
