import { Writable } from 'node:stream';
import Fastify, { LogController } from 'fastify';
import { pino } from 'pino';
import t from 'tap';
import { lazyChildLogger, loggerOptions } from '../src/logger.ts';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  let children = 0;
  // pino calls onChild for every child made from this logger or its descendants
  const logger = pino({ ...loggerOptions(level), onChild: () => void children++ }, stream);
  return { logger, lines, children: () => children };
}

t.test('the lazy child makes no pino child for calls below its level, and a real one (bindings, redaction) for the rest', async (t) => {
  const c = capture('info');
  const log = lazyChildLogger(c.logger, { reqId: 'req-7' }, { level: 'info' });
  t.equal(log.level, 'info');
  log.debug({ a: 1 }, 'not at info');
  log.trace('nor this');
  t.equal(c.children(), 0, 'no child for disabled levels');
  t.same(c.lines, []);
  log.warn({ headers: { authorization: 'HVEventingSharedKey secret' }, n: 2 }, 'refused %s', 'x');
  t.equal(c.children(), 1, 'the child is made on the first enabled call');
  log.error('again');
  t.equal(c.children(), 1, 'and only once');
  t.equal(c.lines.length, 2);
  t.match(c.lines[0], { level: 40, reqId: 'req-7', service: 'hv-gateway', n: 2, msg: 'refused x', headers: { authorization: '[redacted]' } });
  t.match(c.lines[1], { level: 50, reqId: 'req-7', msg: 'again' });
});

t.test('the route log level decides, like a real child: debug route logs debug, warn route drops info', async (t) => {
  const c = capture('info');
  lazyChildLogger(c.logger, { reqId: 'a' }, { level: 'debug' }).debug('kept');
  lazyChildLogger(c.logger, { reqId: 'b' }, { level: 'warn' }).info('dropped');
  t.same(c.lines.map((l) => [l.reqId, l.msg]), [['a', 'kept']]);
  const lazy = lazyChildLogger(c.logger, { reqId: 'c' }, {});
  t.equal(lazy.level, 'info', 'no route level: the parent\'s');
  lazy.level = 'debug';
  lazy.debug('after raising the level');
  t.equal(c.lines.at(-1)?.msg, 'after raising the level');
  lazy.child({ sub: 1 }).info('grandchild');
  t.match(c.lines.at(-1), { reqId: 'c', sub: 1, msg: 'grandchild' });
});

t.test('fastify accepts it as childLoggerFactory: request logs carry the request id, quiet requests make no child', async (t) => {
  const c = capture('info');
  const app = Fastify({ loggerInstance: c.logger, childLoggerFactory: lazyChildLogger, logController: new LogController({ disableRequestLogging: true }) });
  app.get('/quiet', async (req) => {
    req.log.debug('below info');
    return 'ok';
  });
  app.get('/loud', async (req) => {
    req.log.warn({ headers: { authorization: 'Bearer x' } }, 'loud');
    return 'ok';
  });
  t.teardown(() => app.close());
  const origin = await app.listen({ host: '127.0.0.1', port: 0 });
  const before = c.children();
  t.equal((await fetch(`${origin}/quiet`)).status, 200);
  t.equal(c.children(), before, 'no child for a request that logs nothing at an enabled level');
  t.equal((await fetch(`${origin}/loud`)).status, 200);
  t.equal(c.children(), before + 1);
  const loud = c.lines.find((l) => l.msg === 'loud');
  t.match(loud, { reqId: /^req-/, headers: { authorization: '[redacted]' } });
});
