// The control loop as a plugin: opens the subscription store (read to its end before the app is
// ready), joins the leadership group, and runs the reconciler while this replica leads.
// The reconciler stops first (preClose, after its current step); Kafka clients close in onClose.
import type { Config } from '../config/index.ts';
import { kafkaSecurity } from '../kafka/connection.ts';
import { KeyDeriver } from '../subscriptions/keys.ts';
import { Leadership } from '../subscriptions/leadership.ts';
import { Reconciler } from '../subscriptions/reconciler.ts';
import { SubscriptionService } from '../subscriptions/service.ts';
import { KafkaStateLog } from '../subscriptions/store.ts';
import { gatewayPlugin } from './gateway.ts';

export interface SubscriptionsDecorator {
  store: KafkaStateLog;
  service: SubscriptionService;
  reconciler: Reconciler;
  leadership: Leadership;
  keys: KeyDeriver;
  supportedInstances: () => readonly string[];
}

declare module 'fastify' {
  interface FastifyInstance {
    subscriptions: SubscriptionsDecorator;
  }
}

export interface SubscriptionsPluginOptions {
  config: Config;
}

export default gatewayPlugin<SubscriptionsPluginOptions>(
  async (app, { config }) => {
    const { instances: directory, metrics, log: logger } = app;
    const security = kafkaSecurity(config);
    const store = new KafkaStateLog({
      brokers: config.kafkaBrokers,
      clientId: config.kafkaClientId,
      topic: config.stateTopic,
      replicationFactor: config.stateReplication,
      connectTimeoutMs: config.kafkaConnectTimeoutMs,
      writeTimeoutMs: config.storeWriteTimeoutMs,
      keyRetryHorizonMs: config.keyRetryHorizonMs,
      kafkaLogLevel: config.kafkaLogLevel,
      logger,
      security,
      createTopics: config.kafkaCreateTopics,
      client: config.kafkaClient,
    });
    if (config.legacyKeyOverlapMs !== '') {
      logger.warn({ variable: 'KEY_ROTATION_OVERLAP_MS' }, 'KEY_ROTATION_OVERLAP_MS is no longer used and is ignored: an older key stays accepted in an instance until that instance confirmed a newer one and KEY_RETRY_HORIZON_MS has passed');
    }
    if (!config.publicBaseUrl.startsWith('https://')) {
      logger.warn({ publicBaseUrl: config.publicBaseUrl }, 'PUBLIC_BASE_URL is http (PUBLIC_BASE_URL_ALLOW_HTTP=true): HealthVault delivers only to https; development only');
    }
    await store.start();
    app.addHook('onClose', async () => store.close());

    const leadership = new Leadership({
      brokers: config.kafkaBrokers,
      clientId: config.kafkaClientId,
      topic: `${config.stateTopic}.leader`,
      groupId: `${config.stateTopic}.leader`,
      replicationFactor: config.stateReplication,
      sessionTimeoutMs: config.leaderSessionTimeoutMs,
      kafkaLogLevel: config.kafkaLogLevel,
      logger,
      security,
      createTopics: config.kafkaCreateTopics,
      connectTimeoutMs: config.kafkaConnectTimeoutMs,
      client: config.kafkaClient,
    });
    const keys = new KeyDeriver(config.masterSecret);
    const supportedInstances = () => directory.instanceIds();
    const reconciler = new Reconciler({
      state: store,
      directory,
      keys,
      publicBaseUrl: config.publicBaseUrl,
      keyRetryHorizonMs: config.keyRetryHorizonMs,
      intervalMs: config.reconcileIntervalMs,
      concurrency: config.reconcileConcurrency,
      passTimeoutMs: config.reconcilePassTimeoutMs,
      isLeader: () => leadership.isLeader(),
      logger,
      metrics,
    });
    leadership.on('change', (leader: boolean) => {
      metrics.leader.set(leader ? 1 : 0);
      if (leader) reconciler.trigger();
    });
    const service = new SubscriptionService({ state: store, supportedInstances, publicBaseUrl: config.publicBaseUrl });
    app.decorate('subscriptions', { store, service, reconciler, leadership, keys, supportedInstances });

    await leadership.start();
    app.addHook('onClose', async () => leadership.close());
    reconciler.start();
    app.addHook('preClose', async () => reconciler.stop());
  },
  { name: 'hvg-subscriptions', dependencies: ['hvg-instances', 'hvg-metrics'] },
);
