// SelectInstance v1 (healthvault-protocol.md §3.3): which instance new accounts for a location
// go to. The answer's selected-instance is absent for a country HealthVault does not serve.
import type { XmlParseOptions } from './safe-xml.ts';
import { elementOf, expectRoot, optionalChild, optionalText, requiredChild, requiredText, unexpected } from './xml-query.ts';
import type { XmlInput } from './xml-query.ts';
import { buildResponse, successfulResponse } from './response-envelope.ts';
import type { ResponseInput } from './response-envelope.ts';
import { HV_METHODS, requestInfoNamespaces } from './methods.ts';
import { buildInstanceXml, parseInstanceElement } from './service-definition.ts';
import type { ServiceInstance } from './service-definition.ts';
import { textElement } from './xml-escape.ts';
import { invalid, preview } from './validation.ts';

const SELECT = HV_METHODS.SelectInstance;

/** wc-types:Location: ISO 3166-1 country (string 1..3, not blank) and optional ISO 3166-2 subdivision. */
export interface PreferredLocation {
  readonly country: string;
  readonly stateProvince?: string | undefined;
}

const COUNTRY = /^[^\s]{1,3}$/;

export function buildSelectInstanceInfo(location: PreferredLocation): string {
  if (!COUNTRY.test(location.country)) invalid(`country must be 1..3 non-blank characters (ISO 3166-1), got ${preview(location.country)}`);
  let inner = textElement('country', location.country);
  if (location.stateProvince !== undefined) {
    if (location.stateProvince.trim() === '' || location.stateProvince.length > 255) invalid('stateProvince must be 1..255 characters');
    inner += textElement('state-province', location.stateProvince);
  }
  return `<info><preferred-location>${inner}</preferred-location></info>`;
}

/** Simulator side. */
export function parseSelectInstanceInfo(input: XmlInput, limits?: XmlParseOptions): PreferredLocation {
  const info = expectRoot(elementOf(input, limits), requestInfoNamespaces(SELECT.name), 'info');
  const location = requiredChild(info, 'preferred-location');
  const country = requiredText(location, 'country');
  if (!COUNTRY.test(country)) unexpected(requiredChild(location, 'country'), `must be 1..3 characters, got ${preview(country)}`);
  return { country, stateProvince: optionalText(location, 'state-province') };
}

/** `undefined` = the location is not served: the info stays empty (schema remark, §3.3). */
export function buildSelectInstanceResponse(instance: ServiceInstance | undefined): string {
  const inner = instance === undefined ? '' : buildInstanceXml('selected-instance', instance);
  return buildResponse({ code: 0, info: { name: SELECT.responseInfo, inner } });
}

/** The selected instance, or undefined when HealthVault does not serve the location (SDKs: null). */
export function parseSelectInstanceResponse(input: ResponseInput, limits?: XmlParseOptions): ServiceInstance | undefined {
  const info = successfulResponse(input, SELECT.responseInfo, limits).info;
  const selected = info === undefined ? undefined : optionalChild(info, 'selected-instance');
  return selected === undefined ? undefined : parseInstanceElement(selected);
}
