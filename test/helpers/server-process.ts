// Runs the built server (dist/server.js, as npm start does) with exactly `env`, until it exits:
// for start-up checks that must end in an exit code and a message.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export async function runServerUntilExit(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [new URL('../../dist/server.js', import.meta.url).pathname], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out };
}
