// PUBLIC_BASE_URL must be https unless development explicitly allows http; KEY_ROTATION_OVERLAP_MS
// is replaced by KEY_RETRY_HORIZON_MS (issue 13 points 3 and 6).
import t from 'tap';
import { loadConfig } from '../../src/config/index.ts';
import { requiredEnv } from '../helpers/env.ts';

t.test('an http PUBLIC_BASE_URL stops the start, naming the variable and the way out', async (t) => {
  t.throws(() => loadConfig(requiredEnv({ PUBLIC_BASE_URL: 'http://gw.example.com/hv' })), {
    code: 'HVG_ERR_CONFIG',
    message: /PUBLIC_BASE_URL must be an https:\/\/ URL .*PUBLIC_BASE_URL_ALLOW_HTTP=true/,
  });
  const dev = loadConfig(requiredEnv({ PUBLIC_BASE_URL: 'http://localhost:8080/hv', PUBLIC_BASE_URL_ALLOW_HTTP: 'true' }));
  t.equal(dev.publicBaseUrl, 'http://localhost:8080/hv', 'allowed for development');
  t.equal(loadConfig(requiredEnv()).publicBaseUrlAllowHttp, false);
});

t.test('KEY_RETRY_HORIZON_MS defaults to 11 days; KEY_ROTATION_OVERLAP_MS is only remembered to warn about it', async (t) => {
  const c = loadConfig(requiredEnv());
  t.equal(c.keyRetryHorizonMs, 11 * 86_400_000);
  t.equal(c.legacyKeyOverlapMs, '');
  t.equal(loadConfig(requiredEnv({ KEY_ROTATION_OVERLAP_MS: '3000' })).legacyKeyOverlapMs, '3000');
});
