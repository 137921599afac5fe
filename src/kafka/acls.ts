// The least-privilege ACLs of the gateway's Kafka principal, derived from its settings: the one
// list the README shows (npm run acl-list), the tests grant (test/helpers/kafka.ts) and the demo
// grants, so the three cannot drift apart. Why each one is needed is in `why`.
import kafkajs, { type Admin, type AclEntry, type AclOperationTypes } from 'kafkajs';
import { allTopics, type TopicRoutes } from './routes.ts';

// kafkajs is CommonJS and Node's export detection misses these enums: take them from the default export
const { AclOperationTypes: Ops, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

export type AclOperation = 'Read' | 'Write' | 'Describe' | 'Create';

export interface GatewayAcl {
  resource: 'Topic' | 'Group';
  pattern: 'literal' | 'prefixed';
  name: string;
  operations: AclOperation[];
  why: string;
  /** the issue that adds the client needing it; granted ahead so an upgrade needs no ACL change */
  later?: string;
}

export interface AclNames {
  /** KAFKA_TOPIC */
  eventsTopic: string;
  /** KAFKA_STATE_TOPIC */
  stateTopic: string;
  /** KAFKA_CLIENT_ID: the store's consumer group is `{KAFKA_CLIENT_ID}-store-<random>` per start */
  clientId: string;
  /** KAFKA_CREATE_TOPICS */
  createTopics: boolean;
  /** KAFKA_DEAD_LETTER_TOPIC (default healthvault.dead-letter) */
  deadLetterTopic?: string;
  /** KAFKA_THINGS_TOPIC (default healthvault.things) */
  thingsTopic?: string;
  /** KAFKA_TOPIC_ROUTES, KAFKA_DEAD_LETTER_TOPIC_ROUTES, KAFKA_THINGS_TOPIC_ROUTES: each routed topic needs the rights of its default */
  routes?: { events?: TopicRoutes; deadLetter?: TopicRoutes; things?: TopicRoutes };
}

export const DEFAULT_DEAD_LETTER_TOPIC = 'healthvault.dead-letter';
export const DEFAULT_THINGS_TOPIC = 'healthvault.things';

/** Every ACL the gateway needs, and no other. */
export function gatewayAcls(n: AclNames, _opts: { includeLater?: boolean } = {}): GatewayAcl[] {
  const create: AclOperation[] = n.createTopics ? ['Create'] : [];
  const list: GatewayAcl[] = [
    {
      resource: 'Topic', pattern: 'literal', name: n.eventsTopic, operations: ['Write', 'Describe', ...create],
      why: 'the sink produces notifications (idempotent producer: Write on the topic is enough on Kafka ≥ 3.0; brokers before 3.0 also need IdempotentWrite on the Cluster); Describe for metadata and the topic check',
    },
    {
      resource: 'Topic', pattern: 'literal', name: n.stateTopic, operations: ['Read', 'Write', 'Describe', ...create],
      why: 'the subscription store reads the whole compacted topic and appends changes (idempotent producer)',
    },
    {
      resource: 'Topic', pattern: 'literal', name: `${n.stateTopic}.leader`, operations: ['Read', 'Describe', ...create],
      why: 'leadership: every replica subscribes to this one-partition topic; nothing is ever written to it',
    },
    { resource: 'Group', pattern: 'literal', name: `${n.stateTopic}.leader`, operations: ['Read'], why: 'leadership: the consumer group whose assignment picks the replica that reconciles' },
    { resource: 'Group', pattern: 'prefixed', name: `${n.clientId}-store-`, operations: ['Read'], why: 'the store consumer: a new group id per start (it reads from offset 0 and commits nothing)' },
  ];
  const routed = (r: TopicRoutes | undefined, fallback: string) => allTopics(r ?? new Map(), fallback).slice(1);
  for (const name of routed(n.routes?.events, n.eventsTopic)) {
    list.push({ resource: 'Topic', pattern: 'literal', name, operations: ['Write', 'Describe', ...create], why: 'a routed events topic (KAFKA_TOPIC_ROUTES): the sink produces that instance\'s notifications here' });
  }
  const deadLetter = n.deadLetterTopic ?? DEFAULT_DEAD_LETTER_TOPIC;
  for (const name of [deadLetter, ...routed(n.routes?.deadLetter, deadLetter)]) {
    list.push({
      resource: 'Topic', pattern: 'literal', name, operations: ['Write', 'Describe', ...create],
      why: name === deadLetter
        ? 'the sink produces authentic but unreadable notification bodies (KAFKA_DEAD_LETTER_TOPIC) with the same producer as the events'
        : 'a routed dead-letter topic (KAFKA_DEAD_LETTER_TOPIC_ROUTES)',
    });
  }
  // the enrichment stage (only used while some subscription has enrich: true)
  for (const name of allTopics(n.routes?.events ?? new Map(), n.eventsTopic)) {
    list.push({ resource: 'Topic', pattern: 'literal', name, operations: ['Read'], why: 'enrichment: its consumer group reads every events topic (KAFKA_TOPIC and its routes)' });
  }
  list.push({ resource: 'Group', pattern: 'literal', name: `${n.clientId}-enrichment`, operations: ['Read'], why: 'enrichment: the consumer group that spreads the events partitions over the replicas and keeps their committed offsets' });
  const things = n.thingsTopic ?? DEFAULT_THINGS_TOPIC;
  for (const name of [things, ...routed(n.routes?.things, things)]) {
    list.push({ resource: 'Topic', pattern: 'literal', name, operations: ['Write', 'Describe', ...create], why: name === things ? 'enrichment: one record per fetched thing (KAFKA_THINGS_TOPIC), its own idempotent producer' : 'a routed things topic (KAFKA_THINGS_TOPIC_ROUTES)' });
  }
  return list;
}

/** The README table (between the acl-list markers). */
export function aclTable(acls: readonly GatewayAcl[]): string {
  const rows = acls.map((a) => `| ${a.resource} | \`${a.name}\`${a.pattern === 'prefixed' ? ' (prefix)' : ''} | ${a.operations.join(', ')} | ${a.later ? `*(for the ${a.later}, added later)* ` : ''}${a.why} |`);
  return ['| Resource | Name | Operations | Why |', '|---|---|---|---|', ...rows].join('\n') + '\n';
}

/** The same list as kafka-acls.sh commands (Apache Kafka's own tool), for operators. */
export function aclCommands(acls: readonly GatewayAcl[], principal: string, bootstrap = '<broker:port>'): string {
  return acls
    .map((a) => {
      const ops = a.operations.map((o) => `--operation ${o}`).join(' ');
      const pattern = a.pattern === 'prefixed' ? ' --resource-pattern-type prefixed' : '';
      return `kafka-acls.sh --bootstrap-server ${bootstrap} --command-config admin.properties --add --allow-principal ${principal} ${ops} --${a.resource.toLowerCase()} '${a.name}'${pattern}`;
    })
    .join('\n') + '\n';
}

const OP: Record<AclOperation, AclOperationTypes> = { Read: Ops.READ, Write: Ops.WRITE, Describe: Ops.DESCRIBE, Create: Ops.CREATE };

/** The kafkajs CreateAcls entries for a principal ("User:gateway"). */
export function kafkajsAcls(acls: readonly GatewayAcl[], principal: string): AclEntry[] {
  return acls.flatMap((a) =>
    a.operations.map((op) => ({
      resourceType: a.resource === 'Topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
      resourceName: a.name,
      resourcePatternType: a.pattern === 'prefixed' ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
      principal,
      host: '*',
      operation: OP[op],
      permissionType: AclPermissionTypes.ALLOW,
    })),
  );
}

/** Grant the list to `principal` through an admin client that may alter ACLs. */
export async function grantAcls(admin: Admin, acls: readonly GatewayAcl[], principal: string): Promise<void> {
  await admin.createAcls({ acl: kafkajsAcls(acls, principal) });
}
