// The data path's receiver (src/notifications/receiver.ts, Fastify-free) built from what the
// other plugins decorate: the subscription view and key deriver, the instance registry, the
// Kafka sink and the metrics. Decorated as app.notificationReceiver; the route
// (routes/notifications.ts) only adapts HTTP to it.
import { NotificationReceiver } from '../notifications/receiver.ts';
import { gatewayPlugin } from './gateway.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** the data path; tests read its state sizes */
    notificationReceiver: NotificationReceiver;
  }
}

export interface NotificationsPluginOptions {
  /** NOTIFICATION_ACCEPT_HEX_MAC */
  acceptHexMac: boolean;
  /** NOTIFICATION_RATE_LIMIT, NOTIFICATION_AUTH_FAILURE_LIMIT per NOTIFICATION_RATE_WINDOW_MS */
  rateLimit: number;
  authFailureLimit: number;
  rateWindowMs: number;
  /** KAFKA_DEAD_LETTER_TOPIC (the sink plugin opened the sink with it) */
  deadLetterTopic: string;
  /** KAFKA_TOPIC_ROUTES, KAFKA_DEAD_LETTER_TOPIC_ROUTES: an instance's records to its own topics */
  topicRoutes: ReadonlyMap<string, string>;
  deadLetterTopicRoutes: ReadonlyMap<string, string>;
}

export default gatewayPlugin<NotificationsPluginOptions>(
  async (app, opts) => {
    const { subscriptions, instances, sink, metrics } = app;
    app.decorate('notificationReceiver', new NotificationReceiver({
      view: subscriptions.store.view, keys: subscriptions.keys, instances, sink, metrics,
      acceptHexMac: opts.acceptHexMac, rateLimit: opts.rateLimit, authFailureLimit: opts.authFailureLimit, rateWindowMs: opts.rateWindowMs, deadLetterTopic: opts.deadLetterTopic,
      topicRoutes: opts.topicRoutes, deadLetterTopicRoutes: opts.deadLetterTopicRoutes,
    }));
  },
  { name: 'hvg-notifications', dependencies: ['hvg-subscriptions', 'hvg-instances', 'hvg-sink', 'hvg-metrics'] },
);
