// Prints the gateway's ACL list (npm run acl-list) for the KAFKA_* settings of the environment:
// a Markdown table, or with --commands PRINCIPAL kafka-acls.sh lines. --write replaces the table
// between the acl-list markers in README.md (defaults of every setting; a test compares them).
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIG_SCHEMA } from '../config/index.ts';
import { aclCommands, aclTable, gatewayAcls } from '../kafka/acls.ts';

const env = process.argv.includes('--write') ? {} : process.env;
const acls = gatewayAcls({
  eventsTopic: CONFIG_SCHEMA.kafkaTopic.parse(env.KAFKA_TOPIC),
  stateTopic: CONFIG_SCHEMA.stateTopic.parse(env.KAFKA_STATE_TOPIC),
  deadLetterTopic: CONFIG_SCHEMA.kafkaDeadLetterTopic.parse(env.KAFKA_DEAD_LETTER_TOPIC),
  clientId: CONFIG_SCHEMA.kafkaClientId.parse(env.KAFKA_CLIENT_ID),
  createTopics: CONFIG_SCHEMA.kafkaCreateTopics.parse(env.KAFKA_CREATE_TOPICS),
  thingsTopic: CONFIG_SCHEMA.kafkaThingsTopic.parse(env.KAFKA_THINGS_TOPIC),
  routes: {
    events: CONFIG_SCHEMA.kafkaTopicRoutes.parse(env.KAFKA_TOPIC_ROUTES),
    deadLetter: CONFIG_SCHEMA.kafkaDeadLetterTopicRoutes.parse(env.KAFKA_DEAD_LETTER_TOPIC_ROUTES),
    things: CONFIG_SCHEMA.kafkaThingsTopicRoutes.parse(env.KAFKA_THINGS_TOPIC_ROUTES),
  },
});
const i = process.argv.indexOf('--commands');
if (i >= 0) process.stdout.write(aclCommands(acls, process.argv[i + 1] ?? 'User:hv-gateway', env.KAFKA_BROKERS?.split(',')[0]));
else if (process.argv.includes('--write')) {
  const path = new URL('../../README.md', import.meta.url);
  const readme = readFileSync(path, 'utf8');
  const next = readme.replace(/(<!-- acl-list:start -->\n)[\s\S]*?(<!-- acl-list:end -->)/, `$1${aclTable(acls)}$2`);
  if (next === readme) process.stderr.write('README.md: ACL table unchanged or markers missing\n');
  writeFileSync(path, next);
} else process.stdout.write(aclTable(acls));
