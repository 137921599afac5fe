// Peer B: @platformatic/kafka-hooks (a Platformatic service: fastify HTTP → Kafka, plus a webhook
// consumer that forwards every record of its topics to a URL). Started with the configuration its
// generator writes (`wattpm create` → platformatic.json: logger level info, OpenAPI on) and our
// broker, topic and webhook URL; `watch` off as in production. The HTTP → Kafka route is
// `POST /topics/<topic>`: one Produce request per HTTP request, 202 once the leader acknowledged.
//
//   node bench/servers/kafka-hooks.ts '<json HooksJob>'   prints "ready" on stdout once listening
//
// The two forms (HooksJob.form):
//   shipped  the webhook consumer runs as configured by default (the schema's concurrency 1: one
//            delivery at a time, 3 attempts, DLQ) and forwards every record to `webhookUrl` (a
//            receiver on the load core answering 204).
//   stalled  the consumer is put out of the way through its configuration alone: `concurrency: 1`
//            and a webhook URL whose server accepts the connection and never answers, so the one
//            delivery in flight waits (undici's 300 s headers timeout, 1 attempt, no DLQ) and the
//            consumer's stream stops fetching once its buffer (highWaterMark 1024) is full. The
//            package has no switch to turn the consumer off: every configured topic is consumed.
import { create } from '@platformatic/kafka-hooks';

export interface HooksJob {
  port: number;
  brokers: string[];
  /** the topics the bench posts to, one per body size (created by the orchestrator, 6 partitions) */
  topics: string[];
  /** a DLQ topic the orchestrator created (the bench broker does not auto-create topics) */
  dlqTopic: string;
  form: 'shipped' | 'stalled';
  /** where the consumer forwards records */
  webhookUrl: string;
  /** pino level of the service (generator default: info, which logs every request) */
  logLevel: string;
}

const job = JSON.parse(process.argv[2] ?? '{}') as HooksJob;
const stalled = job.form === 'stalled';
const config = {
  module: '@platformatic/kafka-hooks',
  // what the generator writes (kafka-hooks lib/generator.js, @platformatic/service generator)
  service: { openapi: true },
  watch: false,
  server: { hostname: '127.0.0.1', port: job.port, logger: { level: job.logLevel } },
  kafka: {
    brokers: job.brokers,
    topics: job.topics.map((topic) => ({ topic, url: job.webhookUrl, dlq: job.dlqTopic, ...(stalled ? { retries: 1, dlq: false } : {}) })),
    consumer: { groupId: `bench-hooks-${job.form}-${process.pid}`, maxWaitTime: 500, sessionTimeout: 10000, rebalanceTimeout: 15000, heartbeatInterval: 500 },
    ...(stalled ? { concurrency: 1 } : {}),
  },
};

const app = await create(process.cwd(), config);
await app.start({ listen: true });
process.stdout.write('ready\n');
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  // the stalled delivery would hold close() for minutes: give it a moment, then go
  setTimeout(() => process.exit(0), 3000).unref();
  void app.stop().then(() => process.exit(0), () => process.exit(1));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
