// Micro-benchmark of the notification hot path: Authorization header parse + HMAC verify over the
// raw bytes + body parse, on the 1637-byte fixture (three notifications, two subscriptions).
// Run: npx node bench/codec.ts   (prints µs/op, median of 5 runs)
import { readFileSync } from 'node:fs';
import { notificationKeyObject, parseNotificationAuthorization, verifyNotification } from '../src/healthvault/notification-auth.ts';
import { parseNotificationBody } from '../src/healthvault/notification.ts';
import { parseXml } from '../src/healthvault/safe-xml.ts';

const dir = new URL('../test/fixtures/healthvault/', import.meta.url);
const body = readFileSync(new URL('notification-three-two-subscriptions.xml', dir));
const expected = JSON.parse(readFileSync(new URL('expected-values.json', dir), 'utf8'));
const header: string = expected.notification.threeTwoSubscriptions.header;
const key = Buffer.from(expected.notification.keys['4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218'].notificationKeyBase64, 'base64');

// The receiver should cache one KeyObject per (subscription, key version): see notificationKeyObject.
const keyObject = notificationKeyObject(key);

function receive(k: Buffer | typeof keyObject, crossCheck: boolean): number {
  const auth = parseNotificationAuthorization(header);
  if (!verifyNotification(auth, k, body)) throw new Error('fixture does not verify');
  return parseNotificationBody(body, { crossCheck }).notifications.length;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function measure(name: string, fn: () => unknown, iterations = 20_000): void {
  for (let i = 0; i < 5_000; i++) fn(); // warm-up: let the JIT settle
  const runs: number[] = [];
  for (let run = 0; run < 5; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    runs.push(Number(process.hrtime.bigint() - start) / iterations / 1000);
  }
  console.log(`${name.padEnd(40)} ${median(runs).toFixed(2).padStart(7)} µs/op  (runs: ${runs.map((r) => r.toFixed(2)).join(', ')})`);
}

console.log(`node ${process.version}, body ${body.length} bytes`);
measure('verify+parse (KeyObject key)', () => receive(keyObject, true));
measure('verify+parse (Buffer key)', () => receive(key, true));
measure('verify+parse (KeyObject, no crossCheck)', () => receive(keyObject, false));
measure('header parse + verify (KeyObject)', () => verifyNotification(parseNotificationAuthorization(header), keyObject, body));
measure('safe XML parse only', () => parseXml(body));
measure('safe XML parse, no crossCheck', () => parseXml(body, { crossCheck: false }));
