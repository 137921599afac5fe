// kafkajs logs bridged into pino: one child logger, kafkajs' namespace as a field.
// kafkajs logs at ERROR many states that are normal on a broker that has just started or a
// cluster electing leaders (a coordinator loading, a leader moving, a topic not yet in the
// metadata, a refused connection while the broker boots) and that it, or our code, retries.
// Those go to debug; what is left of kafkajs' errors goes to warn, because the operation's own
// outcome is reported by our code (start fails with a coded error, a send failure is counted and
// logged by the sink), which is the one place that knows whether it matters.
import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';

export const KAFKA_LOG_LEVELS = { error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG } as const;
export type KafkaLogLevel = keyof typeof KAFKA_LOG_LEVELS;

// Expected by design, so not worth a warning each time a producer is (re)created: the sink
// limits retries on purpose and replaces the producer (new producer id) after any failed send,
// which is what keeps idempotence safe (see kafka-sink.ts).
const DOWNGRADE = ['Limiting retries for the idempotent producer'];

/** Messages of states that pass by themselves on a healthy cluster (kafkajs' wording). */
export const TRANSIENT = [
  /coordinator is loading/i,
  /not the (correct )?coordinator/i,
  /coordinator is not available/i,
  /not the leader/i,
  /no leader for this topic-partition/i,
  /does not host this topic-partition/i,
  /leader is not available/i,
  /group is rebalancing/i,
  /ECONNREFUSED/,
  /Connection error/i,
  /Closed connection/i,
  /metadata (is )?not loaded/i,
];

const isTransient = (text: string) => TRANSIENT.some((r) => r.test(text));

export function pinoLogCreator(logger: Logger): logCreator {
  return () => ({ namespace, level, log }) => {
    const { message, timestamp: _t, logger: _l, ...extra } = log as { message: string; timestamp?: string; logger?: string; [k: string]: unknown };
    const fields = { kafkajs: namespace, ...extra };
    const text = `${message} ${typeof extra.error === 'string' ? extra.error : ''}`;
    if (level === logLevel.ERROR) {
      if ((namespace === 'Connection' && message.startsWith('Response ')) || isTransient(text)) logger.debug(fields, message);
      else logger.warn(fields, message);
    } else if (level === logLevel.WARN) {
      if (DOWNGRADE.some((d) => message.startsWith(d)) || isTransient(text)) logger.debug(fields, message);
      else logger.warn(fields, message);
    } else if (level === logLevel.INFO) logger.info(fields, message);
    else logger.debug(fields, message);
  };
}
