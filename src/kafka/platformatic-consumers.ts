// The two consumer-group uses of the gateway on @platformatic/kafka: the store's reader (a fresh
// group, the whole topic from offset 0, nothing committed) and leadership's membership (assigned
// partitions only). Like the kafkajs adapter, neither restarts itself after a failure for good:
// it reports onCrash once and the owner (store, leadership) starts a new one with backoff.
import { Consumer, type BaseOptions, type GroupAssignment } from '@platformatic/kafka';
import type { Closable, LogReaderOptions, MembershipOptions } from './api.ts';
import { disconnectWithin } from './errors.ts';

/** close(true): streams are closed and the group is left; bounded when the broker is gone. */
const closeConsumer = (c: Consumer): Promise<void> => disconnectWithin({ disconnect: () => c.close(true) });

/**
 * The life of one consumer: a failure before its stream started is the starting call's failure,
 * after that it is reported once through onCrash; close() and a crash each close it once.
 */
class ConsumerRun {
  done = false;
  #started = false;
  #early: unknown = null;
  readonly #consumer: Consumer;
  readonly #onCrash: (err: unknown) => void;
  constructor(consumer: Consumer, onCrash: (err: unknown) => void) {
    this.#consumer = consumer;
    this.#onCrash = onCrash;
  }
  crash(err: unknown): void {
    if (this.done) return;
    this.done = true;
    void closeConsumer(this.#consumer);
    if (this.#started) this.#onCrash(err);
    else this.#early = err;
  }
  /** run consume(); on failure close the consumer and throw; else the handle that closes it */
  async start(consume: () => Promise<unknown>): Promise<Closable> {
    try {
      await consume();
    } catch (err) {
      this.done = true;
      await closeConsumer(this.#consumer);
      throw err;
    }
    this.#started = true;
    if (this.#early !== null) throw this.#early;
    return {
      close: async () => {
        this.done = true;
        await closeConsumer(this.#consumer);
      },
    };
  }
}

const groupTiming = (sessionTimeoutMs: number) => ({
  sessionTimeout: sessionTimeoutMs,
  rebalanceTimeout: sessionTimeoutMs,
  heartbeatInterval: Math.max(500, Math.floor(sessionTimeoutMs / 6)),
});

export async function platformaticReadLog(base: BaseOptions, o: LogReaderOptions): Promise<Closable> {
  const timing = groupTiming(o.sessionTimeoutMs);
  const consumer = new Consumer({ ...base, groupId: o.groupId, ...timing, maxWaitTime: o.maxWaitMs, autocommit: false });
  // a failure before consume() resolved is this call's failure, not a crash of a running reader
  const run = new ConsumerRun(consumer, o.onCrash);
  const crash = (err: unknown) => run.crash(err);
  // 'error' = a rejoin that failed for good: the reader no longer follows the topic
  consumer.on('error', crash);
  consumer.on('consumer:heartbeat:stalled', (p) => crash(p.lastError ?? new Error('the store reader lost its group (no heartbeat)')));
  return run.start(async () => {
    // mode earliest: every start reads the whole compacted topic, whatever was committed
    const stream = await consumer.consume({ topics: [o.topic], mode: 'earliest', autocommit: false, maxWaitTime: o.maxWaitMs, ...timing });
    stream.on('data', (m) => o.onRecord(m.key?.toString() ?? '', m.value ?? null, Number(m.offset)));
    stream.on('error', crash);
    stream.on('close', () => crash(new Error('the store reader stopped')));
  });
}

const partitionsOf = (assignments: readonly GroupAssignment[] | null | undefined, topic: string): number[] => assignments?.find((a) => a.topic === topic)?.partitions ?? [];

export async function platformaticJoinGroup(base: BaseOptions, o: MembershipOptions): Promise<Closable> {
  const timing = groupTiming(o.sessionTimeoutMs);
  // a member that could not heartbeat for a session timeout has been dropped by the coordinator
  const consumer = new Consumer({ ...base, groupId: o.groupId, ...timing, heartbeatStallTimeout: o.sessionTimeoutMs, maxWaitTime: 1000, autocommit: false });
  let revokedByHeartbeat = false;
  const run = new ConsumerRun(consumer, o.onCrash);
  const crash = (err: unknown) => {
    o.onRevoke(`membership lost: ${err instanceof Error ? err.message : String(err)}`);
    run.crash(err);
  };
  consumer.on('consumer:group:join', (p) => {
    revokedByHeartbeat = false;
    o.onJoin(p.memberId, partitionsOf(p.assignments, o.topic));
  });
  consumer.on('consumer:group:rebalance', () => o.onRevoke('rebalancing'));
  consumer.on('consumer:group:leave', () => o.onRevoke('left the group'));
  // [I] a heartbeat that fails without a group error (network) keeps the membership, but whether
  // the coordinator still counts us is unknown until one succeeds: lead nothing meanwhile
  consumer.on('consumer:heartbeat:error', () => {
    revokedByHeartbeat = true;
    o.onRevoke('heartbeat failed');
  });
  consumer.on('consumer:heartbeat:end', () => {
    if (!revokedByHeartbeat || run.done || consumer.memberId === null) return;
    revokedByHeartbeat = false;
    o.onJoin(consumer.memberId, partitionsOf(consumer.assignments, o.topic));
  });
  consumer.on('consumer:heartbeat:stalled', (p) => crash(p.lastError ?? new Error('no heartbeat for a session timeout')));
  consumer.on('error', crash);
  return run.start(async () => {
    // nothing is ever written to the coordination topic: the stream only keeps the membership
    const stream = await consumer.consume({ topics: [o.topic], mode: 'latest', autocommit: false, maxWaitTime: 1000, ...timing });
    stream.on('data', () => {});
    stream.on('error', crash);
  });
}
