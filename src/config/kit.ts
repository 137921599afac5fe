// Building blocks of the configuration schema: a setting = variable + parser + default + doc.
// Each concern declares its settings with these in a file of this folder (e.g. instances.ts);
// index.ts composes them into the one schema. parseSettings() is the one loop that reads a
// group of settings from an environment (the server's whole schema, or a script's Kafka slice).
import { readFileSync } from 'node:fs';

export type Env = Record<string, string | undefined>;

export interface Setting<T> {
  readonly env: string;
  readonly doc: string;
  /** shown in docs; undefined = required */
  readonly defaultText: string | undefined;
  /** secrets also accept <env>_FILE (a mounted file) and are never logged */
  readonly secret: boolean;
  parse(raw: string | undefined): T;
}

export class ConfigValueError extends Error {}

export function setting<T>(env: string, doc: string, def: T | undefined, parse: (raw: string) => T, opts: { secret?: boolean; defaultText?: string } = {}): Setting<T> {
  return {
    env,
    doc,
    secret: opts.secret ?? false,
    defaultText: opts.defaultText ?? (def === undefined ? undefined : String(def)),
    parse(raw) {
      if (raw === undefined || raw.trim() === '') {
        if (def === undefined) throw new ConfigValueError('is required');
        return def;
      }
      return parse(raw.trim());
    },
  };
}

export const int = (min: number, max: number) => (raw: string): number => {
  if (!/^-?\d+$/.test(raw)) throw new ConfigValueError(`must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigValueError(`must be between ${min} and ${max}, got ${n}`);
  return n;
};

export const oneOf = <T extends string>(values: readonly T[]) => (raw: string): T => {
  if (!(values as readonly string[]).includes(raw)) throw new ConfigValueError(`must be one of ${values.join(', ')}, got "${raw}"`);
  return raw as T;
};

export const text = (pattern: RegExp, what: string) => (raw: string): string => {
  if (!pattern.test(raw)) throw new ConfigValueError(`must be ${what}, got "${raw}"`);
  return raw;
};

/** host:port[,host:port…]; IPv6 hosts in brackets */
export const brokerList = (raw: string): string[] => {
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new ConfigValueError('must list at least one host:port');
  for (const b of list) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new ConfigValueError(`has "${b}", which is not host:port`);
  }
  return list;
};

export const bool = (raw: string): boolean => {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigValueError(`must be true or false, got "${raw}"`);
};

/** `s` without its trailing '/'s, in linear time (the regex /\/+$/ is quadratic on long runs of '/' followed by another character). */
export function trimTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 47 /* / */) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** an absolute http(s) URL without query or fragment; trailing slashes removed */
export const baseUrl = (raw: string): string => {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigValueError(`must be an absolute URL, got "${raw}"`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new ConfigValueError(`must be an http or https URL, got "${raw}"`);
  if (u.search !== '' || u.hash !== '') throw new ConfigValueError(`must not have a query or fragment, got "${raw}"`);
  return trimTrailingSlashes(raw);
};

/** The parsed values of a group of settings (index.ts's Config, a concern's own slice). */
export type SettingValues<S extends Record<string, Setting<unknown>>> = { readonly [K in keyof S]: ReturnType<S[K]['parse']> };

/** One configuration problem: the variable and a message that names it (the only problem type). */
export interface SettingProblem {
  readonly variable: string;
  readonly message: string;
}

/** A problem whose message starts with the variable's name. */
export const problem = (variable: string, message: string): SettingProblem => ({ variable, message: `${variable} ${message}` });

/** Raw value of a setting: VAR, or for secrets the contents of the file named by VAR_FILE. */
function rawValue(s: Setting<unknown>, env: Env): string | undefined {
  const direct = env[s.env];
  const file = s.secret ? env[`${s.env}_FILE`] : undefined;
  if (file !== undefined && file !== '') {
    if (direct !== undefined && direct !== '') throw new ConfigValueError(`and ${s.env}_FILE are both set; set only one`);
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigValueError(`cannot be read from ${s.env}_FILE "${file}" (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return direct;
}

/**
 * Parse every setting of a group; every bad value becomes a problem naming its variable, so a
 * deployment is fixed in one round. `values` is complete only when `problems` is empty.
 */
export function parseSettings<S extends Record<string, Setting<unknown>>>(schema: S, env: Env): { values: SettingValues<S>; problems: SettingProblem[] } {
  const out: Record<string, unknown> = {};
  const problems: SettingProblem[] = [];
  for (const [key, s] of Object.entries(schema)) {
    try {
      out[key] = s.parse(rawValue(s, env));
    } catch (err) {
      if (!(err instanceof ConfigValueError)) throw err;
      problems.push(problem(s.env, err.message));
    }
  }
  return { values: out as SettingValues<S>, problems };
}
