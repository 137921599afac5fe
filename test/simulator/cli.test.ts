// The CLI (npm run simulator) and the config file: one command serves two instances and the
// control API; bad configuration exits 1 naming every problem.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { loadConfigFile } from '../../src/simulator/config-file.ts';
import { resolveConfig } from '../../src/simulator/sim-config.ts';
import { anonymous, client, platform } from './helpers.ts';

const MAIN = fileURLToPath(new URL('../../src/simulator/main.ts', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../src/simulator/simulator.example.json', import.meta.url));

t.test('resolveConfig: defaults, and every problem reported at once', async (t) => {
  const c = resolveConfig();
  t.same(c.instances.map((i) => i.id), ['1', '2']);
  t.equal(c.tokenTtlMs, 4 * 3600 * 1000, '4 h token TTL by default [C]');
  t.equal(c.subscriptionLimit, 25);
  t.equal(c.retryHorizonMs, 10 * 86400 * 1000, '10-day horizon');
  t.equal(resolveConfig({ timeScale: 1000 }).retryFirstMs, 60, 'durations divided by timeScale');
  let message = '';
  try {
    resolveConfig({
      controlPort: -1,
      instances: [{ id: 'a' }, { id: 'a', port: 70000 }],
      applications: [{ appId: 'nope', actionUrl: 'http://x/', certificates: ['not pem'] }],
      timeScale: 0,
    });
  } catch (err) {
    message = (err as Error).message;
  }
  for (const p of ['controlPort', 'ids must be unique', 'instances[1].port', 'applications[0].appId', 'not a PEM certificate', 'actionUrl', 'timeScale']) {
    t.ok(message.includes(p), `names ${p}`);
  }
});

t.test('the example config loads, with certificate files resolved next to it', async (t) => {
  const config = loadConfigFile(EXAMPLE);
  const resolved = resolveConfig(config);
  t.equal(resolved.applications.size, 1);
  const app = resolved.applications.get('7a9c3e51-2f4b-4d8e-9c61-0b5d2e8f4a13');
  t.same([...(app?.certificates.keys() ?? [])], ['A7549B4045F51B2491CCB5BD53645BC498491105']);
  t.equal(app?.actionUrlRoot, 'https://gw.test/hv/');
  t.same(resolved.deliveryRewrites, [{ from: 'https://gw.test/', to: 'http://127.0.0.1:8080/' }]);
});

function run(args: string[]) {
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

t.test('npm run simulator: two instances and the control API from one command', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hv-sim-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const example = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
  const config = {
    ...example, controlPort: 0, logLevel: 'warn', instances: example.instances.map((i: object) => ({ ...i, port: 0 })),
    applications: example.applications.map((a: { certificateFiles: string[] }) => ({ ...a, certificateFiles: a.certificateFiles.map((f) => join(fileURLToPath(new URL('../../src/simulator/', import.meta.url)), f)) })),
  };
  writeFileSync(join(dir, 'sim.json'), JSON.stringify(config));
  const proc = run(['--config', join(dir, 'sim.json')]);
  t.teardown(() => proc.child.kill('SIGKILL'));
  const deadline = Date.now() + 10_000;
  while (!proc.out().includes('instance 2') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const control = /control API\s+(\S+)/.exec(proc.out())?.[1];
  const platforms = [...proc.out().matchAll(/instance (\S+) \((\w+)\)\s+port (\d+)\s+(\S+)/g)];
  t.ok(control, 'prints the control URL');
  if (control === undefined) t.comment(proc.out(), proc.err());
  t.same(platforms.map((m) => [m[1], m[2]]), [['1', 'US'], ['2', 'EU']]);

  const agent = client(t);
  const res = await request(`${control ?? ''}/instances`, { dispatcher: agent });
  t.equal(res.statusCode, 200);
  t.equal((await res.body.json() as unknown[]).length, 2);
  for (const m of platforms) t.equal((await platform(t, agent, m[4] ?? '', anonymous('GetServiceDefinition', 2, '<info/>'))).code, 0);

  proc.child.kill('SIGTERM');
  t.equal(await proc.exited, 0, 'closes cleanly on SIGTERM');
});

t.test('a bad config file exits 1 with the reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hv-sim-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ subscriptionLimit: 'many' }));
  const bad = run(['--config', join(dir, 'bad.json')]);
  t.equal(await bad.exited, 1);
  t.match(bad.err(), /subscriptionLimit must be an integer/);
  const missing = run(['--config', join(dir, 'nope.json')]);
  t.equal(await missing.exited, 1);
  t.match(missing.err(), /cannot read the simulator config/);
});
