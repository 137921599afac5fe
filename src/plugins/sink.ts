// Opens the Kafka sink before the server listens (start fails fast when Kafka is unreachable)
// and closes it last, after in-flight requests were answered (fastify's onClose order).
import type { Config } from '../config/index.ts';
import { kafkaSecurity } from '../kafka/connection.ts';
import { allTopics } from '../kafka/routes.ts';
import { createKafkaSink } from '../sink/kafka-sink.ts';
import type { Sink } from '../sink/sink.ts';
import { gatewayPlugin } from './gateway.ts';

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

export default gatewayPlugin<SinkPluginOptions>(
  async (app, { config, sink }) => {
    const owned = sink === undefined;
    const s =
      sink ??
      (await createKafkaSink({
        brokers: config.kafkaBrokers,
        clientId: config.kafkaClientId,
        topic: config.kafkaTopic,
        extraTopics: [
          { topic: config.kafkaDeadLetterTopic, variable: 'KAFKA_DEAD_LETTER_TOPIC' },
          // residency routes: each routed topic is ensured (created) at start like the defaults
          ...allTopics(config.kafkaTopicRoutes, config.kafkaTopic).slice(1).map((topic) => ({ topic, variable: 'KAFKA_TOPIC_ROUTES' })),
          ...allTopics(config.kafkaDeadLetterTopicRoutes, config.kafkaDeadLetterTopic).slice(1).map((topic) => ({ topic, variable: 'KAFKA_DEAD_LETTER_TOPIC_ROUTES' })),
        ],
        partitions: config.kafkaTopicPartitions,
        replicationFactor: config.kafkaTopicReplication,
        connectTimeoutMs: config.kafkaConnectTimeoutMs,
        publishTimeoutMs: config.kafkaPublishTimeoutMs,
        maxBatchRecords: config.kafkaMaxBatchRecords,
        maxBatchBytes: config.kafkaMaxBatchBytes,
        maxQueuedRecords: config.kafkaMaxQueuedRecords,
        lingerMs: config.kafkaLingerMs,
        sendIntervalMs: config.kafkaSendIntervalMs,
        kafkaLogLevel: config.kafkaLogLevel,
        security: kafkaSecurity(config),
        createTopics: config.kafkaCreateTopics,
        client: config.kafkaClient,
        logger: app.log,
      }));
    app.decorate('sink', s);
    if (owned) app.addHook('onClose', async () => s.close());
  },
  { name: 'hvg-sink' },
);
