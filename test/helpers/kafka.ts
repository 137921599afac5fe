// Test helpers against the real broker that scripts/test.sh started (KAFKA_BROKERS).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { Kafka, logLevel, type IHeaders, type KafkaMessage } from 'kafkajs';
import pino from 'pino';

export const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export const uniqueTopic = (name: string): string => `test.${name}.${Date.now().toString(36)}.${randomBytes(3).toString('hex')}`;

export function kafkaClient(list: string[] = brokers): Kafka {
  return new Kafka({ clientId: 'hvg-test', brokers: list, logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
}

export async function createTopic(topic: string, partitions = 3, list: string[] = brokers): Promise<void> {
  const admin = kafkaClient(list).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] });
  } finally {
    await admin.disconnect();
  }
}

/** Sum of the high watermarks of every partition: the number of records ever appended. */
export async function topicEndOffset(topic: string, list: string[] = brokers): Promise<number> {
  const admin = kafkaClient(list).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

export interface ReadRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

const headerStrings = (h: IHeaders | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString() : String(v)]));

/** Read the topic from the beginning with a fresh consumer group until `count` records arrived (or the timeout). */
export async function readRecords(topic: string, count: number, timeoutMs = 30_000, list: string[] = brokers): Promise<ReadRecord[]> {
  const consumer = kafkaClient(list).consumer({ groupId: `hvg-test-${randomBytes(6).toString('hex')}`, sessionTimeout: 10_000 });
  const out: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => resolve(), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ message, partition }: { message: KafkaMessage; partition: number }) => {
            out.push({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', headers: headerStrings(message.headers), partition, offset: message.offset });
            if (out.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;

/** A port p such that p and p+1 (the controller) are free on 127.0.0.1. */
export async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = 20_000 + Math.floor(Math.random() * 20_000);
    if ((await portFree(p)) && (await portFree(p + 1))) return p;
  }
  throw new Error('no free port pair');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A broker of our own (scripts/kafka.sh) for tests that stop and start it. */
export class OwnBroker {
  readonly port: number;
  constructor(port: number) {
    this.port = port;
  }
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }
  async start(keepData = false): Promise<void> {
    await run('bash', [`${ROOT}scripts/kafka.sh`, 'start'], { env: { ...process.env, KAFKA_PORT: String(this.port), KAFKA_KEEP_DATA: keepData ? '1' : '0', KAFKA_HEAP: '384m' }, timeout: 180_000 });
  }
  async stop(): Promise<void> {
    await run('bash', [`${ROOT}scripts/kafka.sh`, 'stop'], { env: { ...process.env, KAFKA_PORT: String(this.port) }, timeout: 60_000 });
  }
}
