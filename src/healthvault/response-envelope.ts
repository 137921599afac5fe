// The platform response envelope (healthvault-protocol.md §4.5):
// <response><status><code>N</code>[<error>…</error>]</status>[<wc:info xmlns:wc="…response.Name">…</wc:info>]</response>
import type { XmlElement, XmlParseOptions } from './safe-xml.ts';
import { childrenNamed, elementOf, expectRoot, integerText, optionalChild, optionalText, requiredChild, textOf, unexpected } from './xml-query.ts';
import { RESPONSE_INFO_NAMESPACE_PREFIX, RESPONSE_NAMESPACE, responseInfoNamespace } from './methods.ts';
import { statusError, statusInfo } from './status-codes.ts';
import type { StatusCodeInfo } from './status-codes.ts';
import { textElement } from './xml-escape.ts';
import { invalid, preview } from './validation.ts';

const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

export interface BuildResponseOptions {
  readonly code: number;
  /** error/message, for a non-zero code. */
  readonly errorMessage?: string;
  /** Schema name of the info (e.g. `SubscribeToEvent`, `GetServiceDefinition2`) and its inner XML. */
  readonly info?: { readonly name: string; readonly inner: string };
  /**
   * Docs and SDK test responses are "sometimes preceded by" the declaration (§4.5); the byte-exact
   * CAST fixture has it, so it is on by default [I].
   */
  readonly xmlDeclaration?: boolean;
}

export function buildResponse(options: BuildResponseOptions): string {
  if (!Number.isSafeInteger(options.code) || options.code < 0) invalid('status code must be a non-negative integer');
  let status = `<status><code>${options.code}</code>`;
  if (options.errorMessage !== undefined) status += `<error>${textElement('message', options.errorMessage)}</error>`;
  status += '</status>';
  let info = '';
  if (options.info !== undefined) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(options.info.name)) invalid(`response info name ${preview(options.info.name)} is not valid`);
    const ns = responseInfoNamespace(options.info.name);
    info = options.info.inner === '' ? `<wc:info xmlns:wc="${ns}"/>` : `<wc:info xmlns:wc="${ns}">${options.info.inner}</wc:info>`;
  }
  return `${options.xmlDeclaration === false ? '' : XML_DECLARATION}<response>${status}${info}</response>`;
}

/** A failure answer, e.g. 133 SUBSCRIPTION_LIMIT_EXCEEDED (fixtures error-response-*.xml). */
export function buildErrorResponse(code: number, message: string): string {
  if (code === 0) invalid('an error response needs a non-zero code');
  return buildResponse({ code, errorMessage: message });
}

export interface ResponseError {
  readonly message: string;
  readonly serverName: string | undefined;
  readonly serverIps: readonly string[];
  readonly exception: string | undefined;
  /** error-info text, if any. */
  readonly errorInfo: string | undefined;
}

export interface ParsedResponse {
  readonly root: XmlElement;
  readonly code: number;
  readonly status: StatusCodeInfo;
  readonly error: ResponseError | undefined;
  /** The `info` element, located by its namespace URI; undefined when absent. */
  readonly info: XmlElement | undefined;
  /** `<Name>` of urn:com.microsoft.wc.methods.response.<Name> for the info that is present. */
  readonly infoName: string | undefined;
}

export interface ParseResponseOptions {
  /** Expected schema name; an info in any other namespace is then refused. */
  readonly infoName?: string;
  readonly limits?: XmlParseOptions;
}

/** Parses a response with a plain or namespaced `response` root (§7.13). Does not judge the code. */
export function parseResponse(input: string | Uint8Array, options: ParseResponseOptions = {}): ParsedResponse {
  const root = expectRoot(elementOf(input, options.limits), ['', RESPONSE_NAMESPACE], 'response');
  const statusEl = requiredChild(root, 'status');
  const code = integerText(statusEl, 'code');
  const errorEl = optionalChild(statusEl, 'error');
  const infos = childrenNamed(root, 'info');
  if (infos.length > 1) unexpected(root, 'more than one <info>');
  const info = infos[0];
  let infoName: string | undefined;
  if (info !== undefined) {
    if (!info.ns.startsWith(RESPONSE_INFO_NAMESPACE_PREFIX)) {
      unexpected(info, `info namespace ${preview(info.ns)} is not urn:com.microsoft.wc.methods.response.<Name>`);
    }
    infoName = info.ns.slice(RESPONSE_INFO_NAMESPACE_PREFIX.length);
    if (options.infoName !== undefined && infoName !== options.infoName) {
      unexpected(info, `expected the ${options.infoName} response info, found ${preview(infoName)}`);
    }
  }
  return { root, code, status: statusInfo(code), error: errorEl === undefined ? undefined : parseError(errorEl), info, infoName };
}

function parseError(el: XmlElement): ResponseError {
  const context = optionalChild(el, 'context');
  const errorInfo = optionalChild(el, 'error-info');
  return {
    message: optionalText(el, 'message') ?? '',
    serverName: context === undefined ? undefined : optionalText(context, 'server-name'),
    serverIps: context === undefined ? [] : childrenNamed(context, 'server-ip').map(textOf),
    exception: context === undefined ? undefined : optionalText(context, 'exception'),
    errorInfo: errorInfo === undefined ? undefined : textOf(errorInfo),
  };
}

/** Throws the HvgError for a non-zero status (HVG_ERR_HV_STATUS / _TRANSIENT / _SESSION_EXPIRED). */
export function expectSuccess(response: ParsedResponse): ParsedResponse {
  if (response.code !== 0) throw statusError(response.code, response.error?.message);
  return response;
}

/** Input of the method-specific response parsers: a document, or one parsed with parseResponse. */
export type ResponseInput = string | Uint8Array | ParsedResponse;

/** Parses (if needed), requires status 0 and checks the info namespace. */
export function successfulResponse(input: ResponseInput, infoName: string | undefined, limits?: XmlParseOptions): ParsedResponse {
  const parsed = typeof input === 'string' || input instanceof Uint8Array
    ? parseResponse(input, { ...(infoName === undefined ? {} : { infoName }), ...(limits === undefined ? {} : { limits }) })
    : input;
  expectSuccess(parsed);
  // Status-only methods (infoName undefined) ignore any info the platform might add [I] (§1.5).
  if (infoName !== undefined && parsed.info !== undefined && parsed.infoName !== infoName) {
    unexpected(parsed.info, `expected the ${infoName} response info, found ${preview(parsed.infoName ?? '')}`);
  }
  return parsed;
}

/** The info of a successful response, which must be present. */
export function requiredInfo(response: ParsedResponse, infoName: string): XmlElement {
  return response.info ?? unexpected(response.root, `missing the ${infoName} response info`);
}
