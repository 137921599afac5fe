// The Kafka module: every Kafka client of the gateway is built, secured, logged and connected here.
export { createKafkaClient, KafkaDiagnostics, kafkajsConfig, type KafkaClientOptions } from './client.ts';
export { describeConnection, kafkaConnectionFromEnv, kafkaSecurity, PLAINTEXT, type KafkaConnection, type KafkaSecurity, type KafkaTls } from './connection.ts';
export { classifyKafkaError, disconnectWithin, retryUntil, rootCause } from './errors.ts';
export { KAFKA_LOG_LEVELS, pinoLogCreator, type KafkaLogLevel } from './log.ts';
export { ensureTopics, type EnsureTopicsOptions, type TopicSpec, type TopicState } from './topics.ts';
