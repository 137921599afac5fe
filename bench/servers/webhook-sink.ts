// The webhook target of peer B (bench/servers/kafka-hooks.ts), run on the load core: it is what
// kafka-hooks' consumer delivers to, not part of the system under test.
//   POST /ok    answered 204 at once (the "as shipped" form: every record is forwarded here)
//   POST /hold  accepted and never answered (the "stalled" form: the one delivery in flight waits)
//   GET /count  {"ok": deliveries answered, "held": requests held}
//   node bench/servers/webhook-sink.ts <port>   prints "ready" on stdout once listening
import { createServer, type ServerResponse } from 'node:http';

const port = Number(process.argv[2] ?? 3001);
let ok = 0;
const held = new Set<ServerResponse>();
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/count') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok, held: held.size }));
    return;
  }
  if (req.url === '/hold') {
    held.add(res);
    res.once('close', () => held.delete(res));
    req.resume();
    return;
  }
  req.resume();
  req.once('end', () => {
    ok++;
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
const stop = () => {
  for (const r of held) r.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
