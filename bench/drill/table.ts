// One Markdown table for a drill run (`npm run drill -- --full` prints it; the README keeps the
// last full run's): per drill the load, what was acknowledged, what is in the topic, what is
// missing (must be 0), and the drill's own figures.
import type { DrillResult } from './drills.ts';

const s = (v: number | undefined): string => (v === undefined || v < 0 ? 'n/a' : `${(v / 1000).toFixed(1)} s`);
const median = (xs: number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};
const max = (xs: number[]): number | undefined => (xs.length === 0 ? undefined : Math.max(...xs));
const series = (p: Record<string, number>, re: RegExp): number[] => Object.entries(p).filter(([k]) => re.test(k)).map(([, v]) => v);
const medMax = (xs: number[]): string => `${s(median(xs))} / ${s(max(xs))}`;

function cycles(r: DrillResult): number {
  if (r.drill === 'a' || r.drill === 'f') return series(r.phases, /^kill\d+ToReadyMs$/).length;
  if (r.drill === 'b') return series(r.phases, /^broker\d+\.brokerDownMs$/).length;
  return 1;
}

function figures(r: DrillResult): string {
  const p = r.phases;
  switch (r.drill) {
    case 'a':
      return [
        `kill → ready (median / max) ${medMax(series(p, /^kill\d+ToReadyMs$/))}`,
        `kill → first 200 ${medMax(series(p, /^kill\d+FirstAckMs$/))}`,
        `POSTs in flight at the kills: ${series(p, /^kill\d+InFlight$/).reduce((a, b) => a + b, 0)}`,
      ].join('; ');
    case 'b':
      return [
        `broker down (median / max) ${medMax(series(p, /^broker\d+\.brokerDownMs$/))}`,
        `gateway ready after the broker was back ${medMax(series(p, /^broker\d+\.gatewayReadyAfterBrokerMs$/))}`,
        `503 answers (Kafka down): ${r.verification?.outcomes['503'] ?? 0}`,
      ].join('; ');
    case 'c':
      return `fast instance in sync after ${s(p.fastInSyncMs)}, slow after ${s(p.slowInSyncMs)}`;
    case 'd':
      return [
        `SIGTERM → exit ${s(p.termToExitMs)} (${p.termExitCode === 0 ? 'exit 0' : 'not exit 0'})`,
        `POSTs open at SIGTERM: ${p.termOpen200 ?? 0} answered 200, ${p.termOpen503 ?? 0} answered 503, ${p.termOpenCut ?? 0} cut off`,
        `restart ready ${s(p.restartReadyMs)}`,
      ].join('; ');
    case 'e': {
      const per = (when: string) => Object.entries(p).filter(([k]) => k.startsWith(`subs${when}.`)).map(([k, v]) => `${k.split('.')[1]}: ${v}`).join(', ');
      return [
        `new leader's first pass over every instance ${s(p.failoverFirstPassMs)} after the kill (≤ 15 s required; seen leading by polling after ${s(p.failoverLeadsMs)})`,
        `our subscriptions per instance before {${per('Before')}} after {${per('After')}}`,
        `duplicate subscriptions ${p.duplicatesBefore ?? 'n/a'} before, ${p.duplicatesAfter ?? 'n/a'} after`,
      ].join('; ');
    }
    case 'f': {
      const th = r.things;
      return [
        `kill → ready ${medMax(series(p, /^kill\d+ToReadyMs$/))}`,
        `enrichment behind at the kills: ${series(p, /^kill\d+EnrichmentBehind$/).join(', ')} events`,
        th ? `things: ${th.wanted} (event, thing) pairs, ${th.thingRecords} records, missing ${th.missing}, duplicates ${th.duplicates}, from another instance ${th.wrongInstance}` : 'things: n/a',
        `caught up ${s(p.enrichmentCaughtUpMs)} after the drain`,
      ].join('; ');
    }
  }
}

export function drillTable(results: readonly DrillResult[]): string {
  const head = '| Drill | Cycles | Thing changes | Notifications acknowledged (200) | Records in topic | Duplicate records | Acknowledged but missing | Figures | Verdict |';
  const rows = results.map((r) => {
    const v = r.verification;
    const cells = [`${r.drill} — ${r.title}`, String(cycles(r)), String(r.changes), String(v?.notificationsDelivered ?? 'n/a'), String(v?.recordsInTopic ?? 'n/a'), String(v?.duplicates ?? 'n/a'), String(v?.missing ?? 'n/a'), figures(r), r.ok ? 'pass' : `FAIL: ${r.failures.join('; ')}`];
    return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  });
  return [head, `|${' --- |'.repeat(9)}`, ...rows].join('\n');
}
