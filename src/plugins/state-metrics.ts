// Gauges read at scrape time from the sink and the instance registry (prom-client collect()):
// the numbers stay exact without the data path paying for bookkeeping.
import { Gauge } from 'prom-client';
import { gatewayPlugin } from './gateway.ts';

export default gatewayPlugin(
  async (app) => {
    const registers = [app.metrics.registry];
    const sink = (name: string, help: string, read: (s: ReturnType<typeof app.sink.stats>) => number) =>
      new Gauge({ name: `hv_gateway_sink_${name}`, help, registers, collect() {
        this.set(read(app.sink.stats()));
      } });
    sink('ready', '1 when the Kafka producer is connected', (s) => (s.state === 'ready' ? 1 : 0));
    sink('queued_records', 'Records waiting for the next send', (s) => s.queuedRecords);
    sink('sends', 'Produce requests sent since start', (s) => s.sends);
    sink('records_acked', 'Records acknowledged by Kafka since start', (s) => s.recordsAcked);
    sink('send_failures', 'Failed produce requests since start', (s) => s.sendFailures);
    sink('publish_timeouts', 'Publishes that hit KAFKA_PUBLISH_TIMEOUT_MS since start', (s) => s.publishTimeouts);
    sink('producer_resets', 'Producers replaced after a failed send since start', (s) => s.producerResets);
    new Gauge({
      name: 'hv_gateway_instance_up',
      help: '1 when the instance answered its last exchange, 0 when it failed (absent before the first)',
      labelNames: ['instance'],
      registers,
      collect() {
        this.reset();
        for (const i of app.instances.instances()) if (i.reachable !== null) this.set({ instance: i.id }, i.reachable ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hv_gateway_instance_session_active',
      help: '1 when the app session (CAST token) of the instance is active',
      labelNames: ['instance'],
      registers,
      collect() {
        this.reset();
        for (const i of app.instances.instances()) this.set({ instance: i.id }, i.session.state === 'active' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hv_gateway_instance_session_rejections',
      help: 'Platform answers (status 7, 8 or 65) that retired the app session token since start; each leads to one new session',
      labelNames: ['instance'],
      registers,
      collect() {
        this.reset();
        for (const i of app.instances.instances()) this.set({ instance: i.id }, i.session.rejections);
      },
    });
  },
  { name: 'hvg-state-metrics', dependencies: ['hvg-metrics', 'hvg-sink', 'hvg-instances'] },
);
