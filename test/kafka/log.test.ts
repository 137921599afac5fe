// The kafkajs → pino bridge: states a starting cluster passes through go to debug; the rest of
// kafkajs' errors to warn (the operation's own outcome is logged by our code).
import t from 'tap';
import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import pino from 'pino';
import { pinoLogCreator } from '../../src/kafka/index.ts';

function capture() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString())), cb()) });
  return { lines, logger: pino({ level: 'debug' }, stream) };
}

t.test('transient kafkajs errors are debug, others warn, nothing stays at error', async (t) => {
  const { lines, logger } = capture();
  const log = pinoLogCreator(logger)(logLevel.DEBUG);
  const entry = (level: logLevel, message: string, extra: Record<string, unknown> = {}) => log({ namespace: 'Consumer', level, label: 'ERROR', log: { timestamp: '', logger: 'kafkajs', message, ...extra } });
  entry(logLevel.ERROR, 'Crash: KafkaJSProtocolError: The coordinator is loading and hence can\'t process requests');
  entry(logLevel.ERROR, '[Connection] Response Metadata(key: 3, version: 6)', { error: 'This server does not host this topic-partition' });
  entry(logLevel.ERROR, 'Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED 127.0.0.1:9092');
  entry(logLevel.WARN, 'Limiting retries for the idempotent producer');
  entry(logLevel.ERROR, 'Crash: KafkaJSProtocolError: Not authorized to access group: Group authorization failed');
  entry(logLevel.INFO, 'Starting');
  await new Promise((r) => setImmediate(r));
  t.same(lines.map((l) => [l.level, l.msg.slice(0, 20)]), [
    [20, 'Crash: KafkaJSProtoc'],
    [20, '[Connection] Respons'],
    [20, 'Failed to connect to'],
    [20, 'Limiting retries for'],
    [40, 'Crash: KafkaJSProtoc'],
    [30, 'Starting'],
  ]);
});
