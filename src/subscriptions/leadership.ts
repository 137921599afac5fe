// One replica reconciles at a time. Leadership comes from Kafka consumer-group membership: every
// replica joins the same group on a one-partition coordination topic, and the member the group
// assigns that partition leads. When the leader stops (or its session times out) the group
// rebalances and another member gets the partition: no extra coordination service.
// During a rebalance nobody leads (leadership is dropped as soon as it starts), which keeps two
// replicas from reconciling at once except across a session timeout of a hung leader; the
// reconciler's own actions converge anyway (duplicates are removed on the next pass).
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { HvgError } from '../errors.ts';
import { backoffDelay, settleWithin } from '../retry.ts';
import { DEFAULT_KAFKA_CLIENT, loadKafkaClient, type Closable, type KafkaClient, type KafkaClientConfig, type KafkaClientName } from '../kafka/api.ts';
import { PLAINTEXT, type KafkaSecurity } from '../kafka/connection.ts';
import { classifyKafkaError } from '../kafka/errors.ts';
import type { KafkaLogLevel } from '../kafka/log.ts';
import { ensureTopics } from '../kafka/topics.ts';

export interface LeadershipOptions {
  brokers: readonly string[];
  clientId: string;
  topic: string;
  groupId: string;
  replicationFactor: number;
  sessionTimeoutMs: number;
  kafkaLogLevel: KafkaLogLevel;
  logger: Logger;
  /** TLS/SASL (default: plaintext) */
  security?: KafkaSecurity;
  /** KAFKA_CREATE_TOPICS (default true) */
  createTopics?: boolean;
  /** bound on preparing the topic at start (KAFKA_CONNECT_TIMEOUT_MS; default 15 s) */
  connectTimeoutMs?: number;
  /** KAFKA_CLIENT (default kafkajs) */
  client?: KafkaClientName;
}

export class Leadership extends EventEmitter {
  readonly #o: LeadershipOptions;
  readonly #log: Logger;
  readonly #clientConfig: KafkaClientConfig;
  #kafka: KafkaClient | null = null;
  #consumer: Closable | null = null;
  #leader = false;
  #memberId: string | null = null;
  #closed = false;
  #joining: Promise<void> | null = null;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: LeadershipOptions) {
    super();
    this.#o = options;
    this.#log = options.logger.child({ module: 'leadership' });
    this.#clientConfig = {
      connection: { brokers: options.brokers, clientId: options.clientId, security: options.security ?? PLAINTEXT },
      clientIdSuffix: 'leadership',
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 3000 },
      logLevel: options.kafkaLogLevel,
      logger: this.#log,
    };
  }

  isLeader(): boolean {
    return this.#leader;
  }

  get memberId(): string | null {
    return this.#memberId;
  }

  #set(leader: boolean, why: string): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#log.info({ leader, why, memberId: this.#memberId }, leader ? 'this replica now reconciles' : 'this replica stopped reconciling');
    this.emit('change', leader);
  }

  async start(): Promise<void> {
    const { topic } = this.#o;
    const deadline = Date.now() + (this.#o.connectTimeoutMs ?? 15_000);
    try {
      this.#kafka = await loadKafkaClient(this.#o.client ?? DEFAULT_KAFKA_CLIENT, this.#clientConfig);
      await ensureTopics(this.#kafka, [{ topic, variable: 'KAFKA_STATE_TOPIC + ".leader"', partitions: 1, replicationFactor: this.#o.replicationFactor }], {
        create: this.#o.createTopics ?? true,
        deadline,
        logger: this.#log,
      });
    } catch (err) {
      const code = err instanceof HvgError && err.code === 'HVG_ERR_KAFKA_FATAL' ? err.code : 'HVG_ERR_KAFKA_UNREACHABLE';
      throw new HvgError(code, `cannot prepare the leadership topic ${topic}: ${(err as Error).message}`, { cause: err });
    }
    // Joining may wait a whole session timeout (a crashed predecessor's membership must expire
    // first); receiving notifications needs no leadership, so start-up does not wait for it.
    this.#startJoin(0);
  }

  #startJoin(attempt: number): void {
    const joining = this.#join();
    this.#joining = joining;
    joining
      .catch((err: unknown) => {
        if (this.#closed) return;
        this.#joinFailed(err, attempt, 'cannot join the leadership group yet');
        this.#rejoin(attempt + 1);
      })
      .finally(() => {
        if (this.#joining === joining) this.#joining = null;
      });
  }

  /**
   * The client's own restart after a crash is off (kafkajs': it can outlive disconnect() and keep
   * the process alive); a crashed membership is replaced by a new one with jittered backoff instead.
   */
  async #join(): Promise<void> {
    const kafka = this.#kafka;
    if (kafka === null) throw new Error('leadership was not started');
    let membership: Closable | null = null;
    try {
      membership = await kafka.joinGroup({
        topic: this.#o.topic,
        groupId: this.#o.groupId,
        sessionTimeoutMs: this.#o.sessionTimeoutMs,
        onJoin: (memberId, partitions) => {
          this.#memberId = memberId;
          this.#set(partitions.includes(0), 'group joined');
        },
        onRevoke: (why) => this.#set(false, why),
        onCrash: (error) => {
          this.#set(false, `consumer crashed: ${error instanceof Error ? error.message : String(error)}`);
          // before joinGroup resolved, membership is still null: the rejection below handles it
          if (membership === null || this.#consumer !== membership || this.#closed) return;
          this.#joinFailed(error, 1, 'the leadership membership stopped; rejoining');
          this.#consumer = null;
          this.#rejoin(1);
        },
      });
    } catch (err) {
      throw new HvgError('HVG_ERR_KAFKA_UNREACHABLE', `cannot join the leadership group ${this.#o.groupId}: ${(err as Error).message}`, { cause: err });
    }
    this.#consumer = membership;
    if (this.#closed) await membership.close();
  }

  /**
   * A coordinator still loading is normal right after a broker starts: debug. A missing ACL
   * never passes: error, with what to grant (the membership keeps retrying, so granting it
   * later heals the replica without a restart).
   */
  #joinFailed(err: unknown, attempt: number, msg: string): void {
    const f = classifyKafkaError(this.#kafka?.explain(err) ?? err, `the leadership group ${this.#o.groupId}`);
    const level = f.kind === 'fatal' ? 'error' : attempt >= 5 ? 'warn' : 'debug';
    this.#log[level]({ err: f.message, attempt }, msg);
  }

  #rejoin(attempt: number): void {
    if (this.#closed) return;
    const delay = backoffDelay(attempt, { baseMs: 1000, maxMs: 10_000, jitter: 'equal' });
    this.#timer = setTimeout(() => {
      this.#join().catch((err: unknown) => {
        this.#joinFailed(err, attempt, 'cannot rejoin the leadership group yet');
        this.#rejoin(attempt + 1);
      });
    }, delay);
    this.#timer.unref();
  }

  /** Leave the group (the partition moves to another replica right away, not after a timeout). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    // a join still connecting would open sockets after our disconnect: let it settle first (bounded)
    if (this.#joining) await settleWithin(this.#joining, 5000, true);
    const c = this.#consumer;
    this.#consumer = null;
    this.#set(false, 'closing');
    // bounded: with Kafka down, leaving the group must not hang shutdown (the session times out instead)
    await c?.close();
  }
}
