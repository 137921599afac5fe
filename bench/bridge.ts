// B_strimzi, a second peer (BENCH_STRIMZI=1): the Strimzi HTTP Bridge on the SUT core, fed the same notifications as
// `application/vnd.kafka.text.v2+json` (the XML as the record value, the gateway's key), with the
// gateway's producer settings (infra/bridge/application.properties). run.sh fetches its jars into
// .cache/bridge/<version>/libs and passes the folder as BENCH_BRIDGE_LIBS (or the reason it could
// not as BENCH_BRIDGE_ERROR).
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './lib/context.ts';
import { benchTopic } from './lib/kafka.ts';
import type { HttpRequestSpec } from './lib/load.ts';
import { freePort, startChild, stopChild, waitHttpOk } from './lib/proc.ts';
import type { ScenarioResult } from './lib/results.ts';
import { runHttpScenario } from './lib/http-scenario.ts';
import { BRIDGE_CONTENT_TYPE, bridgeBody, payloadPool } from './payloads.ts';

export interface Bridge {
  child: ChildProcess;
  pid: number;
  origin: string;
}

export function bridgeUnavailable(): string | null {
  if (process.env.BENCH_BRIDGE_ERROR) return process.env.BENCH_BRIDGE_ERROR;
  if (!process.env.BENCH_BRIDGE_LIBS) return 'BENCH_BRIDGE_LIBS not set (run through bench/run.sh)';
  return null;
}

export async function startBridge(ctx: BenchContext): Promise<Bridge> {
  const libs = process.env.BENCH_BRIDGE_LIBS!;
  const port = await freePort();
  const props = readFileSync(join(ctx.root, 'infra/bridge/application.properties'), 'utf8')
    .replaceAll('@BROKERS@', ctx.brokers.join(','))
    .replaceAll('@HTTP_PORT@', String(port))
    .replaceAll('@LINGER_MS@', process.env.BENCH_BRIDGE_LINGER_MS ?? '0');
  const config = join(ctx.runDir, 'bridge.properties');
  writeFileSync(config, props);
  const heap = process.env.BENCH_BRIDGE_HEAP ?? '512m';
  const child = startChild(
    'java',
    [
      `-Xms${heap}`,
      `-Xmx${heap}`,
      '-XX:ActiveProcessorCount=1',
      `-Dlog4j2.configurationFile=file:${join(ctx.root, 'infra/bridge/log4j2.properties')}`,
      '-cp',
      `${libs}/*`,
      'io.strimzi.kafka.bridge.Application',
      `--config-file=${config}`,
    ],
    { cpus: ctx.sutCpus, logFile: join(ctx.runDir, 'bridge.log') },
  );
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitHttpOk(`${origin}/ready`, 90_000, child);
  } catch (err) {
    await stopChild(child);
    throw new Error(`bridge did not become ready (see ${join(ctx.runDir, 'bridge.log')}): ${(err as Error).message}`);
  }
  return { child, pid: child.pid!, origin };
}

export async function runBridgeScenario(ctx: BenchContext, bridge: Bridge, size: number): Promise<ScenarioResult> {
  const topic = benchTopic(`bridge-${size}`);
  await ctx.admin.createTopic(topic, 6);
  const requests: HttpRequestSpec[] = payloadPool(size).map((p) => ({ path: `/topics/${topic}`, body: bridgeBody(p), headers: { 'content-type': BRIDGE_CONTENT_TYPE } }));
  const res = await runHttpScenario({
    id: 'B_strimzi',
    label: 'Strimzi HTTP Bridge (peer)',
    size,
    pid: bridge.pid,
    where: ctx.where,
    origin: bridge.origin,
    requests,
    kafka: { admin: ctx.admin, topic, recordsPerRequest: 1 },
    windows: ctx.windows,
    log: ctx.log,
  });
  return res;
}
