// Draining state shared by readiness and the data path: set in preClose, before the server
// stops accepting, so load balancers stop sending while in-flight requests finish.
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: { draining: boolean };
  }
}

export default fp(
  async (app) => {
    const lifecycle = { draining: false };
    app.decorate('lifecycle', lifecycle);
    app.addHook('preClose', async () => {
      lifecycle.draining = true;
    });
  },
  { name: 'hvg-lifecycle' },
);
