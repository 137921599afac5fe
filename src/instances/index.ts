// Public surface of the instances module: settings, the registry (which is the reconciler's
// InstanceDirectory; its platforms are InstancePlatforms) and the readiness check.
export { INSTANCE_SETTINGS, checkInstanceSettings } from './settings.ts';
export type { ExplicitInstance, InstanceFilter, InstanceSettings, InstanceSettingsProblem } from './settings.ts';
export { CLIENT_VERSION, InstanceRegistry } from './registry.ts';
export type { InstanceRegistryOptions, ReadinessProblem, RegisteredInstanceStatus, TopologyStatus } from './registry.ts';
export { HvInstance } from './instance.ts';
export type { IdentityState, InstanceStatus } from './instance.ts';
export type { SessionState, SessionStatus } from './app-session.ts';
export type { ErrorSummary } from './instance-errors.ts';
export { instancesReadiness } from './readiness.ts';
export type { InstancesReadiness } from './readiness.ts';
export { DEFAULT_THINGS_READ } from './things.ts';
export type { FetchedThing, ThingsAnswer, ThingsQuery, ThingsReadOptions, ThingsSource } from './things.ts';
