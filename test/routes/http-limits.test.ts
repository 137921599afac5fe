// The HTTP bounds in front of the public route (HTTP_* settings, NOTIFICATION_BODY_LIMIT_BYTES),
// on the real app, with raw sockets: what curl-like clients and slow or greedy callers see.
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { startApp } from '../helpers/app.ts';

const portOf = (url: string) => Number(new URL(url).port);

/** Opens a raw connection; collects what the server sends until it closes. */
function raw(url: string): { socket: Socket; closed: Promise<string>; errors: string[] } {
  const socket = connect(portOf(url), '127.0.0.1');
  const errors: string[] = [];
  let got = '';
  socket.on('data', (d) => (got += d.toString('latin1')));
  socket.on('error', (e) => errors.push((e as NodeJS.ErrnoException).code ?? e.message));
  const closed = new Promise<string>((resolve) => socket.on('close', () => resolve(got)));
  return { socket, closed, errors };
}

const head = (path: string, length: number) => `POST ${path} HTTP/1.1\r\nHost: gw\r\nContent-Type: text/xml\r\nContent-Length: ${length}\r\n\r\n`;

t.test('an oversized body written whole before reading gets a readable 413 (read and discarded up to the cap)', async (t) => {
  const { url } = await startApp(t, { NOTIFICATION_BODY_LIMIT_BYTES: '65536', HV_INSTANCES: '[{"id":"1","name":"US","platformUrl":"http://127.0.0.1:9/p","shellUrl":"http://127.0.0.1:9/s"}]', HV_DISCOVERY_URL: '' });
  const size = 3 * 1_048_576; // far beyond the socket buffers, below the 4 MiB discard cap
  const c = raw(url);
  let written = false;
  c.socket.write(head('/notifications/1/glucose', size));
  c.socket.write(Buffer.alloc(size, 0x20), () => {
    written = true;
    c.socket.end(); // only now start reading, like curl and urllib do
  });
  const answer = await c.closed;
  t.ok(written, 'the whole body was accepted by the server');
  t.same(c.errors, [], 'no EPIPE / ECONNRESET on the client');
  t.match(answer, /^HTTP\/1\.1 413 /);
  t.match(answer, /"code":"HVG_ERR_BODY_TOO_LARGE"/);
  t.match(answer, /NOTIFICATION_BODY_LIMIT_BYTES/);
});

t.test('a body declared beyond the discard cap is answered at once and the connection closed', async (t) => {
  const { url } = await startApp(t, { NOTIFICATION_BODY_LIMIT_BYTES: '65536' });
  const c = raw(url);
  c.socket.write(head('/notifications/1/glucose', 50 * 1_048_576));
  const answer = await c.closed;
  t.match(answer, /^HTTP\/1\.1 413 /);
  t.match(answer, /connection: close/i);
  t.match(answer, /"code":"HVG_ERR_BODY_TOO_LARGE"/);
});

t.test('a body trickled byte by byte is cut at HTTP_REQUEST_TIMEOUT_MS with a coded 408', async (t) => {
  const { url } = await startApp(t, { HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '1000' });
  const total = 300;
  const c = raw(url);
  c.socket.write(head('/notifications/1/glucose', total));
  let sent = 0;
  // one byte every 100 ms: the whole body would take 30 s
  const timer = setInterval(() => {
    if (sent < total && !c.socket.destroyed) {
      c.socket.write('x');
      sent++;
    }
  }, 100);
  t.teardown(() => clearInterval(timer));
  const answer = await c.closed;
  clearInterval(timer);
  t.ok(sent < total, `cut after ${sent} of ${total} bytes`);
  t.match(answer, /^HTTP\/1\.1 408 /);
  t.match(answer, /"code":"HVG_ERR_BAD_REQUEST"/);
});

t.test('headers trickled slowly are cut at HTTP_HEADERS_TIMEOUT_MS', async (t) => {
  const { url } = await startApp(t, { HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '500' });
  const c = raw(url);
  const line = 'POST /notifications/1/glucose HTTP/1.1\r\nHost: gw\r\n';
  c.socket.write(line);
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < 200 && !c.socket.destroyed) {
      c.socket.write(`X-Slow-${sent}: 1\r\n`);
      sent++;
    }
  }, 100);
  t.teardown(() => clearInterval(timer));
  const answer = await c.closed;
  clearInterval(timer);
  t.ok(sent < 200, `cut after ${sent} header lines`);
  t.match(answer, /^HTTP\/1\.1 408 /);
});

t.test('HTTP_MAX_CONNECTIONS: connections beyond the cap are refused, the others keep working', async (t) => {
  const { url, adminUrl } = await startApp(t, { HTTP_MAX_CONNECTIONS: '3' });
  const held = [raw(url), raw(url), raw(url)];
  t.teardown(() => held.forEach((h) => h.socket.destroy()));
  await Promise.all(held.map((h) => new Promise((r) => h.socket.once('connect', r))));
  // the server counts a connection once it accepted it: one request on each makes sure all three are in
  for (const h of held) h.socket.write('GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n');
  await Promise.all(held.map((h) => new Promise((r) => h.socket.once('data', r))));
  const extra = raw(url);
  extra.socket.write('GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n');
  t.equal(await extra.closed, '', 'the fourth connection is closed without an answer');
  const again = raw(url);
  held[0]!.socket.write('GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
  t.match(await held[0]!.closed, /HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 200 /, 'a held connection still works');
  again.socket.destroy();
  const admin = await fetch(`${adminUrl}/healthz`);
  t.equal(admin.status, 200, 'the admin listener has a cap of its own');
});
