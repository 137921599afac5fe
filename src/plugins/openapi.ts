// The OpenAPI document of the admin API, generated from the route schemas (@fastify/swagger:
// the fastify team's plugin; the schemas already exist for validation, so the document cannot
// drift from what the routes accept). Served as JSON at /openapi.json.
import swagger from '@fastify/swagger';
import { gatewayPlugin } from './gateway.ts';

export default gatewayPlugin(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'hv-gateway admin API', version: '1', description: 'Subscriptions kept identical in every HealthVault instance; reconciliation and consistency. Requests are strict: a body field or query parameter not listed here is refused with 400 HVG_ERR_VALIDATION naming it.' },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
      },
    });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'hvg-openapi' },
);
