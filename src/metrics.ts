// Every Prometheus metric of the gateway, defined in one place on one registry per app (no
// global registry: two apps in one test process must not collide). prom-client is the
// de-facto Node client: correct exposition format, histograms and default process metrics
// that would be error-prone to hand-write.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hv_gateway_process_' });
  const r = [registry];
  return {
    registry,
    // data path, per instance
    notificationsReceived: new Counter({ name: 'hv_gateway_notification_requests_total', help: 'Notification POSTs received, by instance', labelNames: ['instance'], registers: r }),
    notificationsVerified: new Counter({ name: 'hv_gateway_notification_requests_verified_total', help: 'Notification POSTs whose signature verified', labelNames: ['instance'], registers: r }),
    notificationsRejected: new Counter({ name: 'hv_gateway_notification_requests_rejected_total', help: 'Notification POSTs refused, by instance and reason (error code)', labelNames: ['instance', 'reason'], registers: r }),
    notificationsDeadLettered: new Counter({ name: 'hv_gateway_notifications_dead_lettered_total', help: 'Authentic notification bodies written to the dead-letter topic and acknowledged, by instance and reason', labelNames: ['instance', 'reason'], registers: r }),
    notificationsProduced: new Counter({ name: 'hv_gateway_notifications_produced_total', help: 'Notifications written to Kafka and acknowledged', labelNames: ['instance'], registers: r }),
    produceLatency: new Histogram({
      name: 'hv_gateway_produce_latency_seconds',
      help: 'Time from a verified notification POST to Kafka acknowledging all its records',
      labelNames: ['instance'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    notificationsInFlight: new Gauge({ name: 'hv_gateway_notification_requests_in_flight', help: 'Notification POSTs waiting for Kafka', labelNames: ['instance'], registers: r }),
    // control loop
    driftFound: new Counter({ name: 'hv_gateway_reconcile_drift_found_total', help: 'Differences found between desired and actual subscriptions', labelNames: ['instance', 'kind'], registers: r }),
    driftRepaired: new Counter({ name: 'hv_gateway_reconcile_drift_repaired_total', help: 'Differences repaired', labelNames: ['instance', 'kind'], registers: r }),
    reconcilePasses: new Counter({ name: 'hv_gateway_reconcile_passes_total', help: 'Reconcile passes by instance and result', labelNames: ['instance', 'result'], registers: r }),
    reconcileDuration: new Histogram({ name: 'hv_gateway_reconcile_pass_seconds', help: 'Duration of one instance reconcile pass', labelNames: ['instance'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: r }),
    leader: new Gauge({ name: 'hv_gateway_reconcile_leader', help: '1 when this replica is the reconciling leader', registers: r }),
    // enrichment stage (src/enrichment/), per instance
    enrichmentLag: new Gauge({ name: 'hv_gateway_enrichment_lag_events', help: 'Events of an instance fetched from the events topic and not yet enriched (this replica)', labelNames: ['instance'], registers: r }),
    enrichmentTopicLag: new Gauge({ name: 'hv_gateway_enrichment_topic_lag_events', help: 'Events not yet enriched per events topic: high watermark minus the next offset, over the partitions this replica consumes (a routed topic = that instance)', labelNames: ['topic'], registers: r }),
    enrichmentEvents: new Counter({ name: 'hv_gateway_enrichment_events_total', help: 'Events seen by the enrichment stage, by instance and result (enriched, skipped = subscription without enrich, invalid, held = instance still failing, fetched again later)', labelNames: ['instance', 'result'], registers: r }),
    thingsWritten: new Counter({ name: 'hv_gateway_enrichment_things_written_total', help: 'Thing records written to the things topic and acknowledged, by instance and kind (thing, unavailable, error)', labelNames: ['instance', 'kind'], registers: r }),
    enrichmentErrors: new Counter({ name: 'hv_gateway_enrichment_errors_total', help: 'GetThings failures by instance and status (HealthVault status code, or the gateway error code; publish = Kafka did not acknowledge)', labelNames: ['instance', 'status'], registers: r }),
    enrichmentRunning: new Gauge({ name: 'hv_gateway_enrichment_running', help: '1 while the enrichment consumer runs in this replica (some subscription has enrich: true)', registers: r }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
