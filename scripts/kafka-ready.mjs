// Exit 0 when the broker at argv[2] answers a real Kafka request (cluster metadata with a
// controller), retrying until argv[3] seconds have passed; exit 1 otherwise (exit 2: bad
// settings, or credentials/ACLs/certificates that waiting cannot fix).
// It connects like the gateway does: the KAFKA_SSL*, KAFKA_SASL_* settings of the environment,
// through src/kafka/ (Node 24 runs the .ts sources directly, so nothing needs building first).
// Used by scripts/kafka.sh and scripts/test.sh.
import { classifyKafkaError, createKafkaClient, kafkaConnectionFromEnv } from '../src/kafka/index.ts';

const broker = process.argv[2] ?? '127.0.0.1:9092';
const seconds = Number(process.argv[3] ?? 5);
const deadline = Date.now() + seconds * 1000;

let connection;
try {
  connection = kafkaConnectionFromEnv({ ...process.env, KAFKA_BROKERS: broker }, 'hv-gateway-ready-check');
} catch (err) {
  process.stderr.write(`kafka-ready: ${err.message}\n`);
  process.exit(2);
}
const kafka = createKafkaClient({ connection, connectionTimeoutMs: 1000, requestTimeoutMs: 3000, retry: { retries: 0 } });

for (;;) {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    await admin.disconnect();
    if (cluster.controller !== null && cluster.brokers.length > 0) process.exit(0);
  } catch (err) {
    await admin.disconnect().catch(() => {});
    const f = classifyKafkaError(err, `the ready check at ${broker}`);
    if (f.kind === 'fatal') {
      process.stderr.write(`kafka-ready: ${f.message}\n`);
      process.exit(2);
    }
  }
  if (Date.now() > deadline) process.exit(1);
  await new Promise((r) => setTimeout(r, 300));
}
