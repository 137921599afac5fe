// The dead-letter record contract (README "Dead-letter record contract"), as pure functions.
import t from 'tap';
import { DEAD_LETTER_TYPE, toDeadLetterRecord, type DeadLetter } from '../../src/sink/dead-letter.ts';

const base: DeadLetter = {
  topic: 'dl', instanceId: '2', subscriptionName: 'glucose', subscriptionId: 'c81e4a70-5d29-4b3f-8e0a-6f14d2b97c35', keyVersion: 'v3',
  reasons: ['unknown-kind', 'foreign-subscription'], entries: [2, 5], detail: '', body: Buffer.from([0x3c, 0xff, 0x00, 0x3e]), receivedAt: new Date('2026-12-01T10:00:00.000Z'),
};

t.test('value = the raw bytes; key, topic and headers as documented', async (t) => {
  const r = toDeadLetterRecord(base);
  t.same([r.topic, r.key, r.value], ['dl', '2:c81e4a70-5d29-4b3f-8e0a-6f14d2b97c35', base.body], 'raw bytes, even invalid UTF-8');
  t.same(r.headers, {
    ce_specversion: '1.0', ce_id: r.headers.ce_id, ce_source: '/healthvault/instances/2', ce_type: DEAD_LETTER_TYPE, ce_time: '2026-12-01T10:00:00.000Z',
    ce_subject: 'subscriptions/c81e4a70-5d29-4b3f-8e0a-6f14d2b97c35', 'content-type': 'application/octet-stream', hv_contract_version: '1', hv_instance_id: '2',
    hv_subscription_name: 'glucose', hv_subscription_id: 'c81e4a70-5d29-4b3f-8e0a-6f14d2b97c35', hv_key_version: 'v3',
    hv_dead_letter_reason: 'unknown-kind,foreign-subscription', hv_dead_letter_entries: '2,5',
  });
  t.match(r.headers.ce_id, /^[0-9a-f]{32}$/);
});

t.test('ce_id: the same for a redelivery, different for another body or instance', async (t) => {
  const id = toDeadLetterRecord(base).headers.ce_id;
  t.equal(toDeadLetterRecord({ ...base, receivedAt: new Date() }).headers.ce_id, id);
  t.not(toDeadLetterRecord({ ...base, body: Buffer.from('<x/>') }).headers.ce_id, id);
  t.not(toDeadLetterRecord({ ...base, instanceId: '1' }).headers.ce_id, id);
});

t.test('headers stay printable and bounded whatever the body or the reader message held', async (t) => {
  const r = toDeadLetterRecord({ ...base, reasons: ['unreadable'], entries: Array.from({ length: 500 }, (_, i) => i + 1), detail: `bad\u0000byte\n${'é'.repeat(2000)}` });
  t.ok(r.headers.hv_dead_letter_detail!.length <= 500);
  t.match(r.headers.hv_dead_letter_detail, /^bad\?byte\?\?/);
  t.ok(/^[\x20-\x7e]*$/.test(r.headers.hv_dead_letter_detail!), 'printable ASCII');
  t.ok(r.headers.hv_dead_letter_entries!.endsWith(',100,...'), 'at most 100 entries listed');
});
