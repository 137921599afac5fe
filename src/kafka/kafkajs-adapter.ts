// The kafkajs adapter of the client-neutral interface (api.ts): the behaviour the gateway had
// before issue 17, moved here unchanged from the sink, the store and leadership.
import { Partitioners, type Consumer, type Kafka } from 'kafkajs';
import type { Closable, IdempotentProducer, KafkaClient, KafkaClientConfig, LogReaderOptions, MembershipOptions, ProducedPartition } from './api.ts';
import { createKafkaClient, KafkaDiagnostics } from './client.ts';
import { disconnectWithin } from './errors.ts';
import { kafkajsAdmin } from './kafkajs-admin.ts';
import { topicMessagesOf } from './kafkajs-messages.ts';

// kafkajs' own restart after a crash is off everywhere: it can outlive disconnect() and keep the
// process alive; the owners (store, leadership) start a new reader or membership themselves.
const noRestart = { restartOnFailure: async () => false };

export function kafkajsClient(config: KafkaClientConfig): KafkaClient {
  const diagnostics = new KafkaDiagnostics();
  const kafka: Kafka = createKafkaClient({ ...config, diagnostics });
  const retry = config.retry ?? { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 };
  return {
    name: 'kafkajs',
    admin: () => kafkajsAdmin(kafka.admin()),
    explain: (err) => diagnostics.explain(err),
    idempotentProducer: () => connectProducer(kafka, config.requestTimeoutMs),
    readLog: (o) => readLog(kafka, o, retry, diagnostics),
    joinGroup: (o) => joinGroup(kafka, o, retry, diagnostics),
  };
}

async function connectProducer(kafka: Kafka, timeout: number | undefined): Promise<IdempotentProducer> {
  const producer = kafka.producer({
    idempotent: true,
    // kafkajs is only safe for idempotence with one request in flight
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner, // Java-compatible murmur2: same key → same partition as Java clients
  });
  try {
    await producer.connect();
  } catch (err) {
    await disconnectWithin(producer);
    throw err;
  }
  return {
    async send(chunks, defaultTopic): Promise<ProducedPartition[]> {
      const { topicMessages } = topicMessagesOf(chunks, defaultTopic);
      const meta = await producer.sendBatch({ topicMessages, acks: -1, ...(timeout === undefined ? {} : { timeout }) });
      return meta.map((m) => ({ topic: m.topicName, partition: m.partition, baseOffset: Number(m.baseOffset ?? m.offset) }));
    },
    close: () => disconnectWithin(producer),
  };
}

/** A fresh consumer group reading from offset 0, committing nothing. */
async function readLog(kafka: Kafka, o: LogReaderOptions, retry: object, diagnostics: KafkaDiagnostics): Promise<Closable> {
  const consumer = kafka.consumer({ groupId: o.groupId, maxWaitTimeInMs: o.maxWaitMs, sessionTimeout: o.sessionTimeoutMs, retry: { ...retry, ...noRestart } });
  return runConsumer(consumer, diagnostics, o.onCrash, async () => {
    await consumer.subscribe({ topic: o.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => o.onRecord(message.key?.toString() ?? '', message.value, Number(message.offset)),
    });
  });
}

/** Membership only: nothing is ever written to the coordination topic; run() keeps the membership alive. */
async function joinGroup(kafka: Kafka, o: MembershipOptions, retry: object, diagnostics: KafkaDiagnostics): Promise<Closable> {
  const consumer: Consumer = kafka.consumer({
    groupId: o.groupId,
    sessionTimeout: o.sessionTimeoutMs,
    rebalanceTimeout: o.sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(o.sessionTimeoutMs / 6)),
    maxWaitTimeInMs: 1000,
    retry: { ...retry, ...noRestart },
  });
  const { GROUP_JOIN, REBALANCING, STOP, DISCONNECT } = consumer.events;
  consumer.on(GROUP_JOIN, ({ payload }) => o.onJoin(payload.memberId, payload.memberAssignment[o.topic] ?? []));
  consumer.on(REBALANCING, () => o.onRevoke('rebalancing'));
  consumer.on(STOP, () => o.onRevoke('stopped'));
  consumer.on(DISCONNECT, () => o.onRevoke('disconnected'));
  return runConsumer(consumer, diagnostics, o.onCrash, async () => {
    await consumer.subscribe({ topic: o.topic, fromBeginning: false });
    await consumer.run({ autoCommit: false, eachMessage: async () => {} });
  }, (err) => o.onRevoke(`consumer crashed: ${err.message}`));
}

/**
 * Connect and run a consumer. A crash while joining (run() awaits the join) is this call's
 * failure; a later one is reported once through onCrash (each crash first to onCrashEvent).
 */
async function runConsumer(consumer: Consumer, diagnostics: KafkaDiagnostics, onCrash: (err: unknown) => void, start: () => Promise<void>, onCrashEvent?: (err: Error) => void): Promise<Closable> {
  let joining = true;
  let joinError: Error | null = null;
  let crashed = false;
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    onCrashEvent?.(payload.error);
    if (crashed) return;
    crashed = true;
    void disconnectWithin(consumer);
    if (joining) joinError = payload.error;
    else onCrash(diagnostics.explain(payload.error));
  });
  try {
    await consumer.connect();
    await start();
  } catch (err) {
    crashed = true;
    await disconnectWithin(consumer);
    throw diagnostics.explain(err);
  }
  joining = false;
  // the cause kafkajs hid behind "Failed to find group coordinator" (a missing group ACL never passes)
  if (joinError) throw diagnostics.explain(joinError);
  return {
    close: async () => {
      crashed = true;
      await disconnectWithin(consumer);
    },
  };
}
