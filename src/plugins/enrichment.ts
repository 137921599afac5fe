// The enrichment stage as a plugin: a controller that runs the stage while some subscription has
// `enrich: true` (src/enrichment/controller.ts), fed by the instance registry (GetThings in the
// event's own instance) and the subscription view. Registered after the subscriptions plugin, so
// it closes before the store and the registry (onClose runs in reverse order).
import type { Config } from '../config/index.ts';
import { EnrichmentController } from '../enrichment/controller.ts';
import { kafkaSecurity } from '../kafka/connection.ts';
import { allTopics } from '../kafka/routes.ts';
import { gatewayPlugin } from './gateway.ts';

// A module-level function on purpose: TypeScript 5.9 left this import() as '.ts' in dist/ when it
// sat inside the plugin's async callback (test/deploy/dist-imports.test.ts checks every specifier).
async function loadStage() {
  return (await import('../enrichment/stage.ts')).EnrichmentStage;
}

declare module 'fastify' {
  interface FastifyInstance {
    enrichment: EnrichmentController;
  }
}

export default gatewayPlugin<{ config: Config }>(
  async (app, { config }) => {
    const logger = app.log;
    const view = app.subscriptions.store.view;
    // events received before enrich was turned on are not enriched (no backfill of the retention)
    const enrich = (name: string, receivedAt: string | undefined) => {
      const spec = view.spec(name);
      if (spec?.enrich !== true) return false;
      const since = spec.enrichSince ?? null;
      return since === null || receivedAt === undefined || receivedAt >= since;
    };
    const security = kafkaSecurity(config);
    const controller = new EnrichmentController({
      logger,
      wanted: () => view.specs().some((s) => s.enrich === true),
      // loaded on first use: the stage's consumer is kafkajs (not behind KAFKA_CLIENT yet), and
      // deployments without enrich load neither it nor kafkajs
      createStage: async () => {
        const EnrichmentStage = await loadStage();
        return new EnrichmentStage({
          connection: { brokers: config.kafkaBrokers, clientId: config.kafkaClientId, security },
          kafkaLogLevel: config.kafkaLogLevel,
          logger,
          metrics: app.metrics,
          groupId: `${config.kafkaClientId}-enrichment`,
          eventsTopics: allTopics(config.kafkaTopicRoutes, config.kafkaTopic),
          thingsTopic: config.kafkaThingsTopic,
          thingsRoutes: config.kafkaThingsTopicRoutes,
          sink: {
            partitions: config.kafkaTopicPartitions, replicationFactor: config.kafkaTopicReplication, createTopics: config.kafkaCreateTopics,
            connectTimeoutMs: config.kafkaConnectTimeoutMs, publishTimeoutMs: config.kafkaPublishTimeoutMs,
            maxBatchRecords: config.kafkaMaxBatchRecords, maxBatchBytes: config.kafkaMaxBatchBytes, maxQueuedRecords: config.kafkaMaxQueuedRecords, lingerMs: config.kafkaLingerMs, sendIntervalMs: config.kafkaSendIntervalMs,
            client: config.kafkaClient,
          },
          sources: app.instances,
          enrich,
          concurrency: config.hvThingsConcurrency,
          ratePerSecond: config.enrichRateLimit,
          retryBaseMs: config.enrichRetryBaseMs,
          retryMaxMs: config.enrichRetryMaxMs,
          holdMs: config.enrichHoldMs,
          partitionsConcurrency: config.enrichPartitionsConcurrency,
        });
      },
    });
    app.decorate('enrichment', controller);
    const stopWatching = view.onApplied(() => void controller.sync());
    void controller.sync();
    app.addHook('onClose', async () => {
      stopWatching();
      await controller.close();
    });
  },
  { name: 'hvg-enrichment', dependencies: ['hvg-subscriptions', 'hvg-instances', 'hvg-metrics'] },
);
