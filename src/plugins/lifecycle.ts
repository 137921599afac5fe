// Draining state shared by readiness and the data path: set in preClose, before the server
// stops accepting, so load balancers stop sending while in-flight requests finish.
import { gatewayPlugin } from './gateway.ts';

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: { draining: boolean };
  }
}

export default gatewayPlugin(
  async (app) => {
    const lifecycle = { draining: false };
    app.decorate('lifecycle', lifecycle);
    app.addHook('preClose', async () => {
      lifecycle.draining = true;
    });
  },
  { name: 'hvg-lifecycle' },
);
