// Opens the Kafka sink before the server listens (start fails fast when Kafka is unreachable)
// and closes it last, after in-flight requests were answered (fastify's onClose order).
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { kafkaSecurity } from '../kafka/connection.ts';
import { createKafkaSink, type Sink } from '../sink/kafka-sink.ts';

declare module 'fastify' {
  interface FastifyInstance {
    sink: Sink;
  }
}

export interface SinkPluginOptions {
  config: Config;
  /** an already open sink (tests, benchmarks); it is then not closed by the plugin */
  sink?: Sink;
}

export default fp<SinkPluginOptions>(
  async (app, { config, sink }) => {
    const owned = sink === undefined;
    const s =
      sink ??
      (await createKafkaSink({
        brokers: config.kafkaBrokers,
        clientId: config.kafkaClientId,
        topic: config.kafkaTopic,
        extraTopics: [{ topic: config.kafkaDeadLetterTopic, variable: 'KAFKA_DEAD_LETTER_TOPIC' }],
        partitions: config.kafkaTopicPartitions,
        replicationFactor: config.kafkaTopicReplication,
        connectTimeoutMs: config.kafkaConnectTimeoutMs,
        publishTimeoutMs: config.kafkaPublishTimeoutMs,
        maxBatchRecords: config.kafkaMaxBatchRecords,
        maxBatchBytes: config.kafkaMaxBatchBytes,
        maxQueuedRecords: config.kafkaMaxQueuedRecords,
        kafkaLogLevel: config.kafkaLogLevel,
        security: kafkaSecurity(config),
        createTopics: config.kafkaCreateTopics,
        client: config.kafkaClient,
        // fastify's logger is pino at run time; its TS type is a narrower interface
        logger: app.log as unknown as Logger,
      }));
    app.decorate('sink', s);
    if (owned) app.addHook('onClose', async () => s.close());
  },
  { name: 'hvg-sink' },
);
