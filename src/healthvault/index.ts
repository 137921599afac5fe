// hv-gateway's HealthVault protocol codec: pure functions, no I/O (healthvault-protocol.md).
// Shared by the gateway (instances/, notifications/) and the simulator.
export * from './methods.ts';
export * from './status-codes.ts';
export * from './validation.ts';
export * from './digest.ts';
export * from './xml-escape.ts';
export { DEFAULT_XML_LIMITS, parseXml } from './safe-xml.ts';
export type { XmlElement, XmlLimits, XmlParseOptions } from './safe-xml.ts';
export * from './xml-query.ts';
export * from './request-envelope.ts';
export * from './response-envelope.ts';
export * from './session-token.ts';
export * from './subscription.ts';
export * from './eventing.ts';
export * from './service-definition.ts';
export * from './select-instance.ts';
export * from './notification.ts';
export * from './notification-auth.ts';
export * from './things.ts';
export * from './things-response.ts';
