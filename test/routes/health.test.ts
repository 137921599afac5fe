import t from 'tap';
import { request } from 'undici';
import { startApp } from '../helpers/app.ts';

t.test('healthz and readyz over real HTTP', async (t) => {
  const { app, url } = await startApp(t);
  const health = await request(`${url}/healthz`);
  t.equal(health.statusCode, 200);
  t.same(await health.body.json(), { status: 'ok' });

  const ready = await request(`${url}/readyz`);
  t.equal(ready.statusCode, 200);
  t.same(await ready.body.json(), { ready: true, checks: { kafka: 'ok', lifecycle: 'ok' } });

  // the producer gone → not ready, with the reason
  await app.sink.close();
  const notReady = await request(`${url}/readyz`);
  t.equal(notReady.statusCode, 503);
  t.same(await notReady.body.json(), { ready: false, checks: { kafka: 'not ready (closed)', lifecycle: 'ok' } });
});

t.test('unknown routes get a coded 404', async (t) => {
  const { url } = await startApp(t);
  const res = await request(`${url}/nope`);
  t.equal(res.statusCode, 404);
  t.same(await res.body.json(), { code: 'HVG_ERR_NOT_FOUND', message: 'no route GET /nope' });
});
