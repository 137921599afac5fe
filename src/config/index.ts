// One schema for the environment, composed from one settings file per concern (this folder).
// Each setting is declared once (variable, parser, default, doc); loadConfig() validates all of
// them together with parseSettings() and reports every bad value with the variable's name, so a
// deployment is fixed in one round; the checks across variables run here, once. The README's
// configuration table is checked against CONFIG_SCHEMA by a test. Nothing here opens a resource.
import { HvgError } from '../errors.ts';
import { checkTopicRoutes } from '../kafka/routes.ts';
import { ADMIN_SETTINGS } from './admin.ts';
import { ENRICHMENT_SETTINGS, ROUTING_SETTINGS } from './enrichment.ts';
import { HTTP_SETTINGS } from './http.ts';
import { INSTANCE_SETTINGS, checkInstanceSettings } from './instances.ts';
import { KAFKA_CLIENT_SETTINGS, KAFKA_SECURITY_SETTINGS, KAFKA_SETTINGS, checkDeadLetterTopic, checkKafkaSettings } from './kafka.ts';
import { parseSettings, type Env, type Setting, type SettingProblem, type SettingValues } from './kit.ts';
import { NOTIFICATION_SETTINGS } from './notifications.ts';
import { SUBSCRIPTION_SETTINGS, checkSubscriptionSettings } from './subscriptions.ts';

export const CONFIG_SCHEMA = {
  ...HTTP_SETTINGS,
  ...KAFKA_SETTINGS,
  ...KAFKA_SECURITY_SETTINGS,
  ...KAFKA_CLIENT_SETTINGS,
  ...ROUTING_SETTINGS,
  ...INSTANCE_SETTINGS,
  ...SUBSCRIPTION_SETTINGS,
  ...NOTIFICATION_SETTINGS,
  ...ADMIN_SETTINGS,
  ...ENRICHMENT_SETTINGS,
} as const;

export type Config = SettingValues<typeof CONFIG_SCHEMA>;

/** The checks across variables, each run once, after every variable is valid on its own. */
const CROSS_CHECKS: readonly ((c: Config) => SettingProblem[])[] = [checkInstanceSettings, checkSubscriptionSettings, (c) => checkKafkaSettings(c), checkDeadLetterTopic, checkTopicRoutes];

/** Validate the whole environment; throws HvgError(HVG_ERR_CONFIG) listing every problem. */
export function loadConfig(env: Env = process.env): Config {
  const { values, problems } = parseSettings(CONFIG_SCHEMA, env);
  if (problems.length === 0) for (const check of CROSS_CHECKS) problems.push(...check(values));
  if (problems.length > 0) {
    throw new HvgError('HVG_ERR_CONFIG', `invalid configuration:\n  ${problems.map((p) => p.message).join('\n  ')}`, { details: { problems } });
  }
  return Object.freeze(values);
}

/** Documentation rows for the README table (and the test that keeps it in sync). */
export function configDocs(): { variable: string; default: string | undefined; secret: boolean; doc: string }[] {
  return Object.values(CONFIG_SCHEMA).map((s: Setting<unknown>) => ({ variable: s.env, default: s.defaultText, secret: s.secret, doc: s.doc }));
}
