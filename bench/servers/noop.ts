// The HTTP ceiling (H): a fastify server with the gateway's route shape and body handling, and
// nothing else — every content type is read as a raw Buffer (the gateway needs the exact bytes
// for the HMAC), the route answers 200 at once. No logger (the gateway's own logging is part of
// what G measures, not of the ceiling).
//   node bench/servers/noop.ts <port>     prints "ready" on stdout once listening on 127.0.0.1
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 3000);
const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
let bytes = 0;
app.post('/notifications/:instanceId/:name', async (req, reply) => {
  bytes += (req.body as Buffer).length; // touch the body, as a real handler would
  return reply.code(200).send();
});
app.get('/healthz', async () => ({ status: 'ok', bytes }));

await app.listen({ host: '127.0.0.1', port });
process.stdout.write('ready\n');
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
