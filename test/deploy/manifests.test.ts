// The deploy/ manifests parsed and checked against the code: ports, probe paths, env names that
// exist in the config schema, grace period above the drain time, selectors that match.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { CONFIG_SCHEMA, configDocs } from '../../src/config/index.ts';
import { parseStartCommand, startCommand } from '../../support/start-command.ts';

const dir = new URL('../../deploy/kubernetes/', import.meta.url);
type Doc = { kind: string; metadata: { name: string }; [k: string]: any };
const docs: Doc[] = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(new URL(f, dir), 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${f}: ${d.errors[0]!.message}`);
    return d.toJS() as Doc;
  }));
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const one = (kind: string) => {
  const list = byKind(kind);
  if (list.length !== 1) throw new Error(`expected one ${kind}, found ${list.length}`);
  return list[0]!;
};

const variables = new Set(configDocs().map((d) => d.variable));
const secrets = new Set(configDocs().filter((d) => d.secret).map((d) => d.variable));
const known = (name: string) => variables.has(name) || (name.endsWith('_FILE') && secrets.has(name.slice(0, -5)));

t.test('every kind is there', async (t) => {
  for (const kind of ['Deployment', 'Service', 'ConfigMap', 'Secret', 'PodDisruptionBudget', 'HorizontalPodAutoscaler']) t.equal(byKind(kind).length, 1, kind);
});

t.test('env names exist in the config schema; secrets only through the Secret', async (t) => {
  const dep = one('Deployment');
  const container = dep.spec.template.spec.containers[0];
  const cm = one('ConfigMap');
  const secret = one('Secret');
  for (const name of Object.keys(cm.data)) {
    t.ok(known(name), `ConfigMap ${name} is a setting`);
    t.notOk(secrets.has(name), `ConfigMap ${name} is not a secret`);
  }
  for (const e of container.env) t.ok(known(e.name), `env ${e.name} is a setting`);
  for (const name of Object.keys(secret.stringData)) t.ok(secrets.has(name), `Secret key ${name} is a secret setting`);
  // every required setting is provided somewhere
  const provided = new Set([...Object.keys(cm.data), ...container.env.map((e: { name: string }) => e.name.replace(/_FILE$/, ''))]);
  for (const d of configDocs()) if (d.default === undefined) t.ok(provided.has(d.variable), `required ${d.variable} is set`);
  // each *_FILE points into the mounted secret and names a key the Secret has
  const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'secrets').mountPath;
  for (const e of container.env.filter((x: { name: string }) => x.name.endsWith('_FILE'))) {
    t.equal(e.value, `${mount}/${e.name.slice(0, -5)}`);
    t.ok(Object.hasOwn(secret.stringData, e.name.slice(0, -5)), `${e.name} has a Secret key`);
  }
});

t.test('ports, probes and the Service agree with the app', async (t) => {
  const dep = one('Deployment');
  const c = dep.spec.template.spec.containers[0];
  const cm = one('ConfigMap');
  const ports = Object.fromEntries(c.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
  const portEnv = c.env.find((e: { name: string }) => e.name === 'PORT')?.value ?? String(CONFIG_SCHEMA.port.parse(undefined));
  t.equal(String(ports.http), portEnv, 'http port = PORT');
  t.equal(String(ports.admin), cm.data.ADMIN_PORT, 'admin port = ADMIN_PORT');
  t.same([c.readinessProbe.httpGet.path, c.livenessProbe.httpGet.path], ['/readyz', '/healthz']);
  for (const p of [c.readinessProbe, c.livenessProbe, c.startupProbe]) t.ok(p.httpGet.port in ports, `probe port ${p.httpGet.port} is a named container port`);
  const svc = one('Service');
  for (const p of svc.spec.ports) t.ok(p.targetPort in ports, `Service targets ${p.targetPort}`);
  t.same(svc.spec.selector, dep.spec.template.metadata.labels);
});

t.test('grace period above the drain time; PDB and HPA point at the Deployment', async (t) => {
  const dep = one('Deployment');
  const cm = one('ConfigMap');
  const graceMs = Number(cm.data.SHUTDOWN_GRACE_MS ?? CONFIG_SCHEMA.shutdownGraceMs.parse(undefined));
  t.ok(dep.spec.template.spec.terminationGracePeriodSeconds * 1000 > graceMs + 5000, 'terminationGracePeriodSeconds leaves headroom over SHUTDOWN_GRACE_MS');
  t.same(one('PodDisruptionBudget').spec.selector.matchLabels, dep.spec.selector.matchLabels);
  const hpa = one('HorizontalPodAutoscaler');
  t.same([hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name], ['Deployment', dep.metadata.name]);
  t.ok(hpa.spec.minReplicas >= one('PodDisruptionBudget').spec.minAvailable + 1, 'a disruption never takes the last replica');
});

t.test('the compose file runs Kafka, the simulator and the gateway with settings that exist', async (t) => {
  const { parse } = await import('yaml');
  const { loadConfigFile } = await import('../../src/simulator/config-file.ts');
  const { resolveConfig } = await import('../../src/simulator/sim-config.ts');
  const { loadConfig } = await import('../../src/config/index.ts');
  const compose = parse(readFileSync(new URL('../../deploy/compose/docker-compose.yml', import.meta.url), 'utf8'));
  t.same(Object.keys(compose.services).sort(), ['gateway', 'kafka', 'simulator']);
  const env: Record<string, string> = compose.services.gateway.environment;
  for (const name of Object.keys(env)) t.ok(known(name), `gateway env ${name} is a setting`);
  // the gateway's settings validate (files read from the repo's fixtures, mounted at /fixtures)
  const local = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace('/fixtures/', new URL('../fixtures/healthvault/', import.meta.url).pathname)]));
  t.doesNotThrow(() => loadConfig(local), 'the compose environment is a valid configuration');
  t.equal(compose.services.gateway.environment.KAFKA_BROKERS, 'kafka:9092');
  // the simulator's config file is valid and serves the ports the gateway uses
  const sim = resolveConfig(loadConfigFile(new URL('../../deploy/compose/simulator.json', import.meta.url).pathname));
  t.same(sim.instances.map((i) => i.port), [7001, 7002]);
  t.ok(env.HV_DISCOVERY_URL!.includes(':7001/platform/wildcat.ashx'));
  // only the origin is rewritten: the gateway serves /hv/notifications/… itself, as behind a plain TLS proxy
  t.same(sim.deliveryRewrites, [{ from: `${new URL(env.PUBLIC_BASE_URL!).origin}/`, to: `http://gateway:${env.PORT}/` }], 'deliveries reach the gateway service');
  t.ok([...sim.applications.keys()].includes(env.HV_APP_ID!), 'the gateway app is registered in the simulator');
});

// Memory (issue 17): the image, `npm start` and the bench run the gateway with the same V8 heap
// flags, and the Deployment's memory fits them: the request covers the RSS budget under load, the
// limit the worst case of those flags, so V8 reaches its own heap cap (and collects harder) before
// the kernel's OOM killer would end the pod.
t.test('memory: one set of V8 heap flags, and the container memory fits them', async (t) => {
  const mib = (q: string) => {
    const m = /^(\d+)(Mi|Gi)$/.exec(q);
    if (!m) throw new Error(`memory quantity ${q}: write it in Mi or Gi`);
    return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
  };
  const flag = (flags: readonly string[], name: string) => {
    const f = flags.find((x) => x.startsWith(`--${name}=`));
    return f === undefined ? undefined : Number(f.slice(name.length + 3));
  };
  const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
  t.ok(cmd, 'the Dockerfile has an exec-form CMD');
  const imageArgs = JSON.parse(cmd![1]!) as string[];
  const imageFlags = imageArgs.filter((a) => a.startsWith('--'));
  const start = startCommand();
  t.same(start.nodeFlags, imageFlags, 'npm start and the image pass the same node flags');
  t.equal(imageArgs.at(-1), start.script, 'npm start and the image run the same entry script');
  // environment read before main() (glibc's MALLOC_ARENA_MAX): `npm start` sets it on the command
  // line, the image with ENV — the same values
  const imageEnv = Object.fromEntries(
    [...dockerfile.matchAll(/^ENV (.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/)).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
  );
  t.ok(Object.keys(start.env).length > 0, 'npm start sets the process environment it is measured with (MALLOC_ARENA_MAX)');
  for (const [k, v] of Object.entries(start.env)) t.equal(imageEnv[k], v, `the image sets ${k}=${v} like npm start`);
  // V8 flags are not a stable interface: a Node upgrade that drops one makes node refuse to start
  // ("bad option"), so prove this Node accepts every flag of the start command
  const run = spawnSync(process.execPath, [...start.nodeFlags, '-e', 'process.exit(0)'], { encoding: 'utf8', env: { ...process.env, ...start.env } });
  t.equal(run.status, 0, `node ${start.nodeFlags.join(' ')} starts (stderr: ${run.stderr.trim() || 'none'})`);
  const semi = flag(imageFlags, 'max-semi-space-size');
  const old = flag(imageFlags, 'max-old-space-size');
  t.ok(semi !== undefined && semi > 0, 'the young generation is bounded (--max-semi-space-size)');
  t.ok(old !== undefined && old > 0, 'the old generation is bounded explicitly (--max-old-space-size), not derived from the cgroup by Node');
  const res = one('Deployment').spec.template.spec.containers[0].resources;
  const request = mib(res.requests.memory);
  const limit = mib(res.limits.memory);
  // README "Performance": RSS under load ~170-190 MB (2 KB bodies, the image's flags); 1 MB = 1 MiB is close enough here
  t.ok(request >= 230, `the memory request (${request} Mi) covers the ~170-190 MB RSS under load, with a margin`);
  // V8 heap at its caps: new space is 3 semi-spaces (two plus the large-object reserve), plus the
  // old generation; outside the heap ~130 MB: the node binary's mapped pages (~60 MB measured),
  // native allocations and thread stacks (~40 MB) and Buffers (~30 MB, the bench's probe)
  const worst = 3 * semi! + old! + 130;
  t.ok(limit >= worst, `the memory limit (${limit} Mi) is above the worst case of the heap flags (${worst} MB)`);
  t.ok(limit >= request, 'limit ≥ request');
});

t.test('the start command parser: environment, flags, one script; anything else is refused', async (t) => {
  t.same(parseStartCommand('A_B=1 C=x=y node --f=1 --g dist/server.js'), { env: { A_B: '1', C: 'x=y' }, nodeFlags: ['--f=1', '--g'], script: 'dist/server.js' });
  t.same(parseStartCommand('node dist/server.js'), { env: {}, nodeFlags: [], script: 'dist/server.js' });
  t.throws(() => parseStartCommand('npx tsx src/server.ts'), /expected \[VAR=value …\] node/);
  t.throws(() => parseStartCommand('node --f'), /exactly one script/);
  t.throws(() => parseStartCommand('node --f a.js && echo'), /exactly one script/);
  // the flag check above can fail: node refuses a V8 flag it does not know
  const run = spawnSync(process.execPath, ['--no-such-v8-flag-hvg', '-e', 'process.exit(0)'], { encoding: 'utf8' });
  t.not(run.status, 0, 'node refuses an unknown flag');
});
