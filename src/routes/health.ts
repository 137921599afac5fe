// Liveness and readiness. Ready = this replica can take notifications: the Kafka producer is
// connected, the subscription store is loaded, and it is not draining. Instance problems (a
// refused certificate, a platform that is another instance, no topology yet) are reported here
// too, as warnings: they stop subscription management for that instance, not the data path of
// the others, so they must not take the replica out of rotation.
import { Type } from 'typebox';
import { instancesReadiness } from '../instances/readiness.ts';
import { gatewayPlugin } from '../plugins/gateway.ts';

const Health = Type.Object({ status: Type.String() });
const StringMap = Type.Record(Type.String(), Type.String());
const Ready = Type.Object({ ready: Type.Optional(Type.Boolean()), checks: Type.Optional(StringMap), warnings: Type.Optional(StringMap) });

export default gatewayPlugin(async (app) => {
  app.get('/healthz', { schema: { response: { 200: Health }, hide: true }, logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { response: { '2xx': Ready, '5xx': Ready }, hide: true }, logLevel: 'warn' }, async (_req, reply) => {
    const checks = {
      kafka: app.sink.isReady() ? 'ok' : `not ready (${app.sink.stats().state})`,
      store: app.subscriptions.store.isLoaded() ? 'ok' : 'not loaded',
      lifecycle: app.lifecycle.draining ? 'draining' : 'ok',
    };
    const instances = instancesReadiness(app.instances);
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).send({ ready, checks, warnings: { instances: instances.detail } });
  });
}, { name: 'hvg-routes-health', dependencies: ['hvg-lifecycle', 'hvg-sink', 'hvg-subscriptions', 'hvg-instances'], encapsulate: true });
