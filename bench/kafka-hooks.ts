// B, the peer: @platformatic/kafka-hooks (dev dependency, used only here) on the SUT core, fed the
// same notification bodies as H and G at `POST /topics/<fresh topic>` with the gateway's record
// key in `x-plt-kafka-hooks-key`, measured by the same procedure and gate. Two forms, each its own
// process (bench/servers/kafka-hooks.ts says how the consumer is put out of the way):
//   B        as shipped: its webhook consumer forwards every record to a receiver on the load core
//   B_stall  the webhook consumer stalled through configuration
// Its producer cannot be configured through kafka-hooks; HOOKS_PRODUCER says what it does.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { startProbedNodeOnSut, type BenchContext } from './lib/context.ts';
import { runHttpScenario } from './lib/http-scenario.ts';
import { benchTopic } from './lib/kafka.ts';
import type { HttpRequestSpec } from './lib/load.ts';
import type { Probe } from './lib/loop-stats.ts';
import { freePort, startChild, stopChild, waitHttpOk } from './lib/proc.ts';
import type { ScenarioResult } from './lib/results.ts';
import { payloadPool } from './payloads.ts';
import type { HooksJob } from './servers/kafka-hooks.ts';

export const HOOKS_FORMS = [
  { id: 'B', form: 'shipped', label: 'kafka-hooks as shipped (webhook consumer forwarding)' },
  { id: 'B_stall', form: 'stalled', label: 'kafka-hooks, webhook consumer stalled by configuration' },
] as const;

/**
 * What kafka-hooks' producer does (lib/plugin.js: `new Producer({ bootstrapBrokers, serializers })`,
 * one `send()` of one message per request, 202 after it resolves) with @platformatic/kafka's
 * defaults for an unconfigured Producer. None of it is configurable through kafka-hooks.
 */
export const HOOKS_PRODUCER =
  'acks=1 (leader only), not idempotent (retries: 3 can duplicate), no batching/linger (one Produce per HTTP request, ≤ 5 in flight per connection), no compression; ' +
  '202 after the leader ack; no HMAC, no XML; logs every request (generator default level info)';

/** versions of the peer and of the Kafka client it bundles, for the report */
export function hooksVersions(root: string): string {
  // the package folder of `name` as resolved from `from` (walk up from its entry point)
  const pkg = (from: string, name: string): { version: string; dir: string } => {
    let dir = dirname(createRequire(join(from, 'package.json')).resolve(name));
    for (;;) {
      try {
        const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version: string };
        if (p.name === name) return { version: p.version, dir };
      } catch {
        /* no package.json here */
      }
      if (dirname(dir) === dir) throw new Error(`no package.json of ${name}`);
      dir = dirname(dir);
    }
  };
  const hooks = pkg(root, '@platformatic/kafka-hooks');
  return `@platformatic/kafka-hooks ${hooks.version} with @platformatic/kafka ${pkg(hooks.dir, '@platformatic/kafka').version}`;
}

interface Hooks {
  child: ChildProcess;
  probe: Probe;
  origin: string;
  topics: Map<number, string>;
}

/** One webhook receiver on the load core for both forms (not part of the SUT). */
export async function startWebhookSink(ctx: BenchContext): Promise<{ child: ChildProcess; origin: string }> {
  const port = await freePort();
  const child = startChild(process.execPath, [join(ctx.root, 'bench/servers/webhook-sink.ts'), String(port)], { cpus: process.env.BENCH_LOAD_CPUS ?? '1', logFile: join(ctx.runDir, 'webhook-sink.log') });
  const origin = `http://127.0.0.1:${port}`;
  await waitHttpOk(`${origin}/count`, 20_000, child);
  return { child, origin };
}

async function startHooks(ctx: BenchContext, form: 'shipped' | 'stalled', sizes: readonly number[], webhook: string): Promise<Hooks> {
  const topics = new Map(sizes.map((s) => [s, benchTopic(`hooks-${form}-${s}`)] as const));
  for (const t of topics.values()) await ctx.admin.createTopic(t, 6);
  // the bench broker does not auto-create topics; kafka-hooks creates its DLQ through metadata
  const dlqTopic = benchTopic(`hooks-${form}-dlq`);
  await ctx.admin.createTopic(dlqTopic, 1);
  const port = await freePort();
  const job: HooksJob = {
    port,
    brokers: ctx.brokers,
    topics: [...topics.values()],
    dlqTopic,
    form,
    webhookUrl: `${webhook}/${form === 'stalled' ? 'hold' : 'ok'}`,
    logLevel: process.env.BENCH_HOOKS_LOG_LEVEL ?? 'info',
  };
  const { child, probe } = await startProbedNodeOnSut(ctx, 'bench/servers/kafka-hooks.ts', [JSON.stringify(job)], { logName: `kafka-hooks-${form}.log` });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitHttpOk(`${origin}/`, 90_000, child);
  } catch (err) {
    await stopChild(child);
    throw new Error(`kafka-hooks (${form}) did not start (see ${join(ctx.runDir, `kafka-hooks-${form}.log`)}): ${(err as Error).message}`);
  }
  return { child, probe, origin, topics };
}

/** Both forms for every size; the webhook receiver's pid counts as ours on the load core. */
export interface HooksRun {
  results: ScenarioResult[];
  /** what the webhook receiver saw per form, cumulative: deliveries answered, deliveries held open */
  webhook: Record<string, { ok: number; held: number }>;
}

export async function runHooksScenarios(ctx: BenchContext, sizes: readonly number[]): Promise<HooksRun> {
  const out: ScenarioResult[] = [];
  const webhook: HooksRun['webhook'] = {};
  const count = async () => (await (await fetch(`${sink.origin}/count`)).json()) as { ok: number; held: number };
  const sink = await startWebhookSink(ctx);
  const where = { ...ctx.where, loadPids: [...ctx.where.loadPids, sink.child.pid!] };
  try {
    for (const f of HOOKS_FORMS) {
      ctx.log(`${f.id}: starting kafka-hooks (${f.form})`);
      const hooks = await startHooks(ctx, f.form, sizes, sink.origin);
      try {
        for (const size of sizes) {
          const topic = hooks.topics.get(size)!;
          const requests: HttpRequestSpec[] = payloadPool(size).map((p) => ({
            path: `/topics/${topic}`,
            body: p.body,
            headers: { 'content-type': 'text/xml; charset=utf-8', 'x-plt-kafka-hooks-key': `${p.event.instanceId}:${p.event.recordId}` },
          }));
          out.push(
            await runHttpScenario({
              id: f.id,
              label: f.label,
              size,
              pid: hooks.child.pid!,
              where,
              origin: hooks.origin,
              requests,
              kafka: { admin: ctx.admin, topic, recordsPerRequest: 1 },
              probe: hooks.probe,
              windows: ctx.windows,
              log: ctx.log,
            }),
          );
        }
        // proof of the form: as shipped the consumer delivered (about) every record; stalled, it holds one
        const c = await count();
        webhook[f.id] = { ok: c.ok - (webhook.B?.ok ?? 0), held: c.held };
        ctx.log(`${f.id}: webhook receiver: ${webhook[f.id]!.ok} deliveries answered, ${c.held} held open`);
      } finally {
        await stopChild(hooks.child, 10_000);
      }
    }
  } finally {
    await stopChild(sink.child);
  }
  return { results: out, webhook };
}
