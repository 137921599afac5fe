// kafkajs logs bridged into pino: one child logger, kafkajs' namespace as a field.
import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';

export const KAFKA_LOG_LEVELS = { error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG } as const;

// Expected by design, so not worth a warning each time a producer is (re)created: the sink
// limits retries on purpose and replaces the producer (new producer id) after any failed send,
// which is what keeps idempotence safe (see kafka-sink.ts).
const DOWNGRADE = ['Limiting retries for the idempotent producer'];

export function pinoLogCreator(logger: Logger): logCreator {
  return () => ({ namespace, level, log }) => {
    const { message, timestamp: _t, logger: _l, ...extra } = log as { message: string; timestamp?: string; logger?: string; [k: string]: unknown };
    const fields = { kafkajs: namespace, ...extra };
    // kafkajs logs every failed broker response at ERROR even when it retries it (a coordinator
    // still loading, a leader moving); the operation's own outcome is what we report.
    if (level === logLevel.ERROR && namespace === 'Connection' && message.startsWith('Response ')) logger.debug(fields, message);
    else if (level === logLevel.ERROR) logger.error(fields, message);
    else if (level === logLevel.WARN) {
      if (DOWNGRADE.some((d) => message.startsWith(d))) logger.debug(fields, message);
      else logger.warn(fields, message);
    } else if (level === logLevel.INFO) logger.info(fields, message);
    else logger.debug(fields, message);
  };
}
