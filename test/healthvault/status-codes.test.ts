import t from 'tap';
import { HV_STATUS, STATUS_CODES, statusError, statusInfo } from '../../src/healthvault/status-codes.ts';

t.test('table covers every code of protocol §4.5', async (t) => {
  const codes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 17, 39, 49, 63, 65, 66, 70, 105, 132, 133, 134, 152, 153];
  for (const code of codes) t.ok(STATUS_CODES.has(code), `code ${code}`);
  t.equal(HV_STATUS.SUBSCRIPTION_LIMIT_EXCEEDED, 133);
  t.equal(statusInfo(65).name, 'AUTHENTICATED_SESSION_TOKEN_EXPIRED');
});

t.test('retry advice', async (t) => {
  t.equal(statusInfo(1).retry, 'transient');
  t.equal(statusInfo(49).retry, 'transient');
  t.equal(statusInfo(65).retry, 'reauthenticate');
  t.equal(statusInfo(133).retry, 'none');
  t.equal(statusInfo(4242).name, 'UNKNOWN_4242');
  t.equal(statusInfo(4242).retry, 'none');
});

t.test('statusError maps to catalogue codes', async (t) => {
  t.match(statusError(65), { code: 'HVG_ERR_HV_SESSION_EXPIRED', retriable: true });
  t.match(statusError(49, 'too old'), { code: 'HVG_ERR_HV_TRANSIENT', retriable: true, message: 'HealthVault status 49 REQUEST_TIMED_OUT: too old' });
  t.match(statusError(132), { code: 'HVG_ERR_HV_STATUS', retriable: false, details: { hvStatus: 132, hvStatusName: 'SUBSCRIPTION_NOT_FOUND' } });
});
