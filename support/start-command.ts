// The production start command, read from package.json's "start" script — the one place that says
// how the gateway process is run: `[VAR=value …] node [--flags …] dist/server.js`. The bench starts
// the gateway from it and test/deploy/manifests.test.ts checks the Dockerfile (ENV and CMD) against
// it, so `npm start`, the image and the measured process cannot drift apart.
import { readFileSync } from 'node:fs';

export interface StartCommand {
  /** environment assignments before `node` (e.g. MALLOC_ARENA_MAX, read by glibc at process start) */
  readonly env: Readonly<Record<string, string>>;
  /** node and V8 flags */
  readonly nodeFlags: readonly string[];
  /** the entry script, relative to the package root */
  readonly script: string;
}

export function parseStartCommand(command: string): StartCommand {
  const words = command.trim().split(/\s+/);
  const env: Record<string, string> = {};
  let i = 0;
  for (; i < words.length && /^[A-Z_][A-Z0-9_]*=/.test(words[i]!); i++) {
    const w = words[i]!;
    env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
  }
  if (words[i] !== 'node') throw new Error(`start command "${command}": expected [VAR=value …] node [--flags …] <script>`);
  const nodeFlags: string[] = [];
  for (i++; i < words.length && words[i]!.startsWith('--'); i++) nodeFlags.push(words[i]!);
  const script = words[i];
  if (script === undefined || i !== words.length - 1) throw new Error(`start command "${command}": expected exactly one script after the flags`);
  return { env, nodeFlags, script };
}

/** package.json's "start" script, parsed */
export function startCommand(): StartCommand {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  return parseStartCommand(pkg.scripts.start);
}
