// One catalogue of coded errors. Every error the gateway reports carries a stable code
// (HVG_ERR_*), the HTTP status an API answer should use, and whether retrying can help.
// Modules add their codes here so the whole catalogue stays in one place (docs list it).

export interface ErrorSpec {
  readonly status: number;
  readonly retriable: boolean;
}

export const ERRORS = {
  // configuration
  HVG_ERR_CONFIG: { status: 500, retriable: false },
  // Kafka sink
  HVG_ERR_KAFKA_UNREACHABLE: { status: 503, retriable: true },
  HVG_ERR_KAFKA_TIMEOUT: { status: 503, retriable: true },
  HVG_ERR_KAFKA_PRODUCE: { status: 503, retriable: true },
  HVG_ERR_KAFKA_FATAL: { status: 500, retriable: false },
  HVG_ERR_SINK_CLOSED: { status: 503, retriable: true },
  HVG_ERR_SINK_OVERLOADED: { status: 503, retriable: true },
  HVG_ERR_RECORD_TOO_LARGE: { status: 413, retriable: false },
  // HealthVault protocol codec (parse / verify of documents we receive)
  HVG_ERR_XML_MALFORMED: { status: 400, retriable: false },
  HVG_ERR_XML_FORBIDDEN: { status: 400, retriable: false },
  HVG_ERR_XML_UNEXPECTED: { status: 400, retriable: false },
  HVG_ERR_PROTOCOL: { status: 502, retriable: false },
  // HealthVault answered with a non-zero status code (healthvault-protocol.md §4.5)
  HVG_ERR_HV_STATUS: { status: 502, retriable: false },
  HVG_ERR_HV_TRANSIENT: { status: 503, retriable: true },
  HVG_ERR_HV_SESSION_EXPIRED: { status: 503, retriable: true },
  // subscription store and admin API
  HVG_ERR_STORE_UNAVAILABLE: { status: 503, retriable: true },
  HVG_ERR_PRECONDITION_FAILED: { status: 412, retriable: false },
  HVG_ERR_UNAUTHORIZED: { status: 401, retriable: false },
  // notification receiver
  HVG_ERR_AUTH_MISSING: { status: 401, retriable: false },
  HVG_ERR_AUTH_MALFORMED: { status: 401, retriable: false },
  HVG_ERR_AUTH_UNKNOWN_KEY_VERSION: { status: 401, retriable: false },
  HVG_ERR_AUTH_BAD_SIGNATURE: { status: 401, retriable: false },
  HVG_ERR_UNKNOWN_SUBSCRIPTION: { status: 404, retriable: false },
  HVG_ERR_SUBSCRIPTION_MISMATCH: { status: 403, retriable: false },
  HVG_ERR_BODY_TOO_LARGE: { status: 413, retriable: false },
  HVG_ERR_RATE_LIMITED: { status: 429, retriable: true },
  HVG_ERR_BAD_REQUEST: { status: 400, retriable: false },
  // HTTP API generic
  HVG_ERR_VALIDATION: { status: 400, retriable: false },
  HVG_ERR_NOT_FOUND: { status: 404, retriable: false },
  HVG_ERR_SUBSCRIPTION_LIMIT: { status: 409, retriable: false }, // a PUT would exceed HealthVault's 25 subscriptions in an instance
  HVG_ERR_INTERNAL: { status: 500, retriable: false },
  // instances: topology, platform client, app session (src/instances/)
  HVG_ERR_INSTANCE_UNREACHABLE: { status: 503, retriable: true }, // network error or timeout, retries spent
  HVG_ERR_INSTANCE_UNAVAILABLE: { status: 503, retriable: true }, // HTTP 5xx, retries spent
  HVG_ERR_INSTANCE_BAD_RESPONSE: { status: 502, retriable: false }, // other HTTP status, oversized or unreadable answer
  HVG_ERR_INSTANCE_AUTH: { status: 502, retriable: false }, // CAST refused the app credential (fix cert/key/app id)
  HVG_ERR_INSTANCE_MISMATCH: { status: 502, retriable: false }, // platform's current-instance-id is not the registry's id
  HVG_ERR_INSTANCE_CLOSED: { status: 503, retriable: true },
  HVG_ERR_TOPOLOGY_UNAVAILABLE: { status: 503, retriable: true },
  HVG_ERR_INVALID_COUNTRY: { status: 400, retriable: false },
  HVG_ERR_NO_INSTANCE_FOR_COUNTRY: { status: 404, retriable: false },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class HvgError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly retriable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HvgError';
    this.code = code;
    this.statusCode = ERRORS[code].status;
    this.retriable = ERRORS[code].retriable;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retriable: this.retriable, ...(this.details ? { details: this.details } : {}) };
  }
}

export const isHvgError = (err: unknown): err is HvgError => err instanceof HvgError;
