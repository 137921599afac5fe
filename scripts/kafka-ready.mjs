// Exit 0 when the broker at argv[2] answers a real Kafka request (cluster metadata with a
// controller), retrying until argv[3] seconds have passed; exit 1 otherwise.
// Used by scripts/kafka.sh and scripts/test.sh; plain JS so it runs before anything is built.
import { Kafka, logLevel } from 'kafkajs';

const broker = process.argv[2] ?? '127.0.0.1:9092';
const seconds = Number(process.argv[3] ?? 5);
const deadline = Date.now() + seconds * 1000;

const kafka = new Kafka({
  clientId: 'hv-gateway-ready-check',
  brokers: broker.split(','),
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  requestTimeout: 3000,
  retry: { retries: 0 },
});

for (;;) {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    await admin.disconnect();
    if (cluster.controller !== null && cluster.brokers.length > 0) process.exit(0);
  } catch {
    await admin.disconnect().catch(() => {});
  }
  if (Date.now() > deadline) process.exit(1);
  await new Promise((r) => setTimeout(r, 300));
}
