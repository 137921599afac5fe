// What the rest of the gateway depends on to hand records to Kafka: the receiver publishes,
// readiness and /v1/status read the state. KafkaSink (kafka-sink.ts) is the implementation; a
// second one (another client, issue 17) implements this interface and nothing else changes.
import type { SinkRecord } from './record.ts';

export type SinkState = 'starting' | 'ready' | 'reconnecting' | 'closing' | 'closed';

export interface SinkStats {
  state: SinkState;
  queuedRecords: number;
  inFlight: boolean;
  sends: number;
  recordsAcked: number;
  sendFailures: number;
  publishTimeouts: number;
  producerResets: number;
  lastError: string | null;
}

/** The narrow interface the rest of the gateway depends on. */
export interface Sink {
  publish(records: readonly SinkRecord[]): Promise<void>;
  isReady(): boolean;
  stats(): SinkStats;
  close(): Promise<void>;
}
