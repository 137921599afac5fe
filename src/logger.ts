// pino options shared by the gateway and the simulator: secrets never reach the log.
import type { LoggerOptions } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  '*.authorization',
  '*.masterSecret',
  '*.sharedSecret',
  '*.notificationKey',
  '*.privateKey',
  '*.token',
  // Kafka SASL (src/kafka): never logged on purpose; this catches an accidental object dump
  '*.password',
  '*.kafkaSaslPassword',
  '*.sasl.password',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'hv-gateway' },
  };
}
