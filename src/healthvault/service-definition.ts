// GetServiceDefinition v2 (healthvault-protocol.md §3.2): anonymous; the `topology` section lists
// the instances and names the one that answered (current-instance-id), which lets the gateway
// confirm it talks to the instance it thinks it does. Only topology and updated-date are modelled;
// other sections (platform, shell, xml-method, …) are ignored when read.
import type { XmlElement, XmlParseOptions } from './safe-xml.ts';
import { childrenNamed, elementOf, expectRoot, optionalChild, optionalText, requiredChild, requiredText, textOf, unexpected } from './xml-query.ts';
import type { XmlInput } from './xml-query.ts';
import { buildResponse, successfulResponse } from './response-envelope.ts';
import type { ResponseInput } from './response-envelope.ts';
import { HV_METHODS, requestInfoNamespaces } from './methods.ts';
import { escapeAttr, textElement } from './xml-escape.ts';
import { dateTimeText, invalid, isDateTime, preview } from './validation.ts';

const GSD = HV_METHODS.GetServiceDefinition;

const SERVICE_SECTIONS = ['platform', 'shell', 'topology', 'xml-over-http-methods', 'meaningful-use'] as const;
export type ServiceSection = (typeof SERVICE_SECTIONS)[number];

/** wc-types:Instance (§3.2): ids are strings (string255nw), not numbers [S][C]. */
export interface ServiceInstance {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly platformUrl: string;
  readonly shellUrl: string;
}

export interface GetServiceDefinitionParams {
  /** Only answer if the definition changed after this time (the last non-empty answer's updated-date). */
  readonly updatedDate?: Date | string;
  /** Omitted = everything. */
  readonly sections?: readonly ServiceSection[];
}

export function buildGetServiceDefinitionInfo(params: GetServiceDefinitionParams = {}): string {
  let inner = '';
  if (params.updatedDate !== undefined) inner += `<updated-date>${dateTimeText(params.updatedDate, 'updatedDate')}</updated-date>`;
  if (params.sections !== undefined) {
    if (params.sections.length === 0) invalid('sections, when given, must list at least one section');
    for (const s of params.sections) if (!SERVICE_SECTIONS.includes(s)) invalid(`unknown response section ${preview(s)}`);
    inner += `<response-sections>${params.sections.map((s) => `<section>${s}</section>`).join('')}</response-sections>`;
  }
  return inner === '' ? '<info/>' : `<info>${inner}</info>`;
}

export interface ParsedGetServiceDefinitionParams {
  readonly updatedDate: string | undefined;
  /** Undefined = everything was asked for. */
  readonly sections: ServiceSection[] | undefined;
}

/** Simulator side. */
export function parseGetServiceDefinitionInfo(input: XmlInput, limits?: XmlParseOptions): ParsedGetServiceDefinitionParams {
  const info = expectRoot(elementOf(input, limits), requestInfoNamespaces(GSD.name), 'info');
  const updatedDate = optionalText(info, 'updated-date');
  if (updatedDate !== undefined && !isDateTime(updatedDate)) unexpected(info, `<updated-date> is not an xs:dateTime: ${preview(updatedDate)}`);
  const sectionsEl = optionalChild(info, 'response-sections');
  let sections: ServiceSection[] | undefined;
  if (sectionsEl !== undefined) {
    sections = childrenNamed(sectionsEl, 'section').map((el) => {
      const value = textOf(el);
      if (!(SERVICE_SECTIONS as readonly string[]).includes(value)) unexpected(el, `unknown section ${preview(value)}`);
      return value as ServiceSection;
    });
    if (sections.length === 0) unexpected(sectionsEl, 'needs at least one <section>');
  }
  return { updatedDate, sections };
}

function checkString(value: string, max: number, what: string, allowEmpty = false): string {
  if ((!allowEmpty && value.trim() === '') || value.length > max) invalid(`${what} must be 1..${max} characters and not blank`);
  return value;
}

/** `<tag><id>…</id><name>…</name><description>…</description><platform-url>…</platform-url><shell-url>…</shell-url></tag>` */
export function buildInstanceXml(tag: string, instance: ServiceInstance): string {
  return `<${tag}>${textElement('id', checkString(instance.id, 255, 'instance id'))}` +
    textElement('name', checkString(instance.name, 255, 'instance name')) +
    textElement('description', checkString(instance.description, 1024, 'instance description', true)) +
    textElement('platform-url', checkString(instance.platformUrl, 1024, 'platform url')) +
    textElement('shell-url', checkString(instance.shellUrl, 1024, 'shell url')) + `</${tag}>`;
}

export function parseInstanceElement(el: XmlElement): ServiceInstance {
  const description = optionalText(el, 'description') ?? unexpected(el, 'missing <description>');
  return {
    id: requiredText(el, 'id'),
    name: requiredText(el, 'name'),
    description,
    platformUrl: requiredText(el, 'platform-url'),
    shellUrl: requiredText(el, 'shell-url'),
  };
}

export interface ServiceDefinition {
  /** The instance that answered (`instances/@current-instance-id`). */
  readonly currentInstanceId: string | undefined;
  /** Undefined when the topology section was not returned. */
  readonly instances: ServiceInstance[] | undefined;
  readonly updatedDate: string | undefined;
}

/** `modified: false` = the "nothing changed since updated-date" answer: an info without children. */
export type ServiceDefinitionResult = ({ readonly modified: true } & ServiceDefinition) | { readonly modified: false };

export interface ServiceDefinitionSpec {
  readonly currentInstanceId: string;
  readonly instances: readonly ServiceInstance[];
  readonly updatedDate?: Date | string;
}

/** Topology answer, or the empty not-modified answer for `null` (exact empty form [I], §3.2). */
export function buildGetServiceDefinitionResponse(definition: ServiceDefinitionSpec | null): string {
  if (definition === null) return buildResponse({ code: 0, info: { name: GSD.responseInfo, inner: '' } });
  if (definition.instances.length === 0) invalid('instances must list at least one instance');
  const current = checkString(definition.currentInstanceId, 255, 'currentInstanceId');
  let inner = `<instances current-instance-id="${escapeAttr(current)}">${definition.instances.map((i) => buildInstanceXml('instance', i)).join('')}</instances>`;
  if (definition.updatedDate !== undefined) inner += `<updated-date>${dateTimeText(definition.updatedDate, 'updatedDate')}</updated-date>`;
  return buildResponse({ code: 0, info: { name: GSD.responseInfo, inner } });
}

export function parseGetServiceDefinitionResponse(input: ResponseInput, limits?: XmlParseOptions): ServiceDefinitionResult {
  const info = successfulResponse(input, GSD.responseInfo, limits).info;
  // The .NET SDK treats an info without children as "no change"; a missing info likewise [I].
  if (info === undefined || info.children.length === 0) return { modified: false };
  const instancesEl = optionalChild(info, 'instances');
  let instances: ServiceInstance[] | undefined;
  if (instancesEl !== undefined) {
    instances = childrenNamed(instancesEl, 'instance').map(parseInstanceElement);
    if (instances.length === 0) unexpected(instancesEl, 'needs at least one <instance>');
  }
  const updatedDate = optionalText(info, 'updated-date');
  if (updatedDate !== undefined && !isDateTime(updatedDate)) unexpected(requiredChild(info, 'updated-date'), `is not an xs:dateTime: ${preview(updatedDate)}`);
  return { modified: true, currentInstanceId: instancesEl?.attrs['current-instance-id'], instances, updatedDate };
}
