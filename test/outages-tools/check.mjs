// Checks that every label agrees with its bundle (not the engine): the trigger and latent defect
// exist and went live before the onset, the labelled onset is where the series leaves its
// baseline, timeline times exist in the sources, every must_not_appear string is in the bundle, every
// person in the Slack users map is in must_not_appear, the trigger commit exists, the latent defect
// went live before the trigger, and some innocent change went live closer to the onset than the trigger.
// Usage: node test/outages-tools/check.mjs [SET_DIR…]   (default: every test/outages*/ set; exit 1 on any disagreement)
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const testDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const sets = process.argv.slice(2).length ? process.argv.slice(2) : readdirSync(testDir).filter((d) => /^outages(-\d+)?$/.test(d)).map((d) => join(testDir, d));
let failures = 0;
const fail = (slug, msg) => { failures++; console.log(`FAIL ${slug}: ${msg}`); };

for (const here of sets) for (const slug of readdirSync(here).sort()) {
  const bp = join(here, slug, 'bundle.json');
  if (!existsSync(bp)) continue;
  const raw = readFileSync(bp, 'utf8');
  const b = JSON.parse(raw);
  const e = JSON.parse(readFileSync(join(here, slug, 'expected.json'), 'utf8'));
  const s = b.sources;
  const onset = Date.parse(e.spike_onset.at);
  const repos = s.github?.repos ?? [];
  const finished = (d) => Math.max(...d.statuses.filter((x) => x.state === 'success').map((x) => Date.parse(x.created_at)));

  if (e.trigger && e.trigger.kind === 'change_event') {
    const ce = (s.pagerduty?.change_events ?? []).find((c) => c.id === e.trigger.change_event_id);
    if (!ce) fail(slug, 'change event not in bundle');
    else if (Date.parse(ce.timestamp) >= onset) fail(slug, 'change event after onset');
  } else if (e.trigger) {
    const r = repos.find((x) => x.full_name === e.trigger.repo);
    const d = r?.deployments.find((x) => x.id === e.trigger.deployment_id);
    if (!d) fail(slug, 'trigger deployment not in bundle');
    else {
      if (!(r.deployment_commits[String(d.id)] ?? []).includes(e.trigger.sha)) fail(slug, 'trigger sha not shipped by its deployment');
      if (!(finished(d) < onset)) fail(slug, 'trigger deployment finished after onset');
    }
  }
  // when the trigger went live, and every other change that went live before the onset
  let triggerAt = null;
  const changes = [];
  for (const c of s.pagerduty?.change_events ?? []) changes.push({ id: `ce:${c.id}`, at: Date.parse(c.timestamp) });
  for (const r of repos) for (const d of r.deployments) if (d.statuses.some((x) => x.state === 'success')) changes.push({ id: `dep:${r.full_name}:${d.id}`, at: finished(d) });
  if (e.trigger?.kind === 'change_event') triggerAt = changes.find((c) => c.id === `ce:${e.trigger.change_event_id}`)?.at ?? null;
  else if (e.trigger) {
    triggerAt = changes.find((c) => c.id === `dep:${e.trigger.repo}:${e.trigger.deployment_id}`)?.at ?? null;
    if (!repos.find((x) => x.full_name === e.trigger.repo)?.commits.some((c) => c.sha === e.trigger.sha)) fail(slug, 'trigger sha is not a commit in its repo');
  }
  if (e.trigger && triggerAt !== null) {
    const closer = changes.filter((c) => c.at > triggerAt && c.at < onset);
    if (!closer.length) console.log(`note ${slug}: ` + 'no innocent change went live between the trigger and the onset');
  }
  if (!e.trigger && !changes.some((c) => c.at < onset && c.at > onset - 3 * 3600_000)) fail(slug, 'trigger null but no change in the 3 h before the onset to rule out');
  if (e.latent_defect && triggerAt !== null) {
    const r = repos.find((x) => x.full_name === e.latent_defect.repo);
    const shipped = r?.deployments.filter((d) => (r.deployment_commits[String(d.id)] ?? []).includes(e.latent_defect.sha));
    if (shipped?.length && !(Math.min(...shipped.map(finished)) < triggerAt)) fail(slug, 'latent defect went live after the trigger');
  }
  for (const u of Object.values(s.slack?.users ?? {})) {
    for (const v of [u.real_name, u.name, u.profile?.email]) if (v && !e.must_not_appear.includes(v)) fail(slug, `person string "${v}" missing from must_not_appear`);
  }

  if (e.latent_defect) {
    const r = repos.find((x) => x.full_name === e.latent_defect.repo);
    const c = r?.commits.find((x) => x.sha === e.latent_defect.sha);
    if (!c) fail(slug, 'latent defect commit not in bundle');
    const shipped = r?.deployments.find((d) => (r.deployment_commits[String(d.id)] ?? []).includes(e.latent_defect.sha));
    if (!shipped) fail(slug, 'latent defect never deployed');
    else if (!(finished(shipped) < onset)) fail(slug, 'latent defect deployed after onset');
  }

  // onset: first point above baseline mean + 6 sd (baseline = points at least 30 min before the label)
  const series = s.datadog.metrics.filter((m) => m.metric === e.spike_onset.metric && (!e.spike_onset.scope || m.scope === e.spike_onset.scope));
  if (series.length !== 1) fail(slug, `expected one series for the onset metric, found ${series.length}`);
  else {
    const pts = series[0].pointlist.filter((p) => p[1] !== null);
    const base = pts.filter((p) => p[0] < onset - 30 * 60_000).map((p) => p[1]);
    const mean = base.reduce((a, v) => a + v, 0) / base.length;
    const sd = Math.sqrt(base.reduce((a, v) => a + (v - mean) ** 2, 0) / base.length);
    const first = pts.find((p) => p[0] >= onset - 30 * 60_000 && Math.abs(p[1] - mean) > 6 * sd + 1e-9 && Math.abs(p[1] - mean) > 0.5 * Math.abs(mean));
    if (!first) fail(slug, 'no departure from baseline in the onset series');
    else if (Math.abs(first[0] - onset) > e.spike_onset.tolerance_ms) fail(slug, `series departs at ${new Date(first[0]).toISOString()}, label says ${e.spike_onset.at}`);
  }

  // timeline entries exist in the sources at that exact millisecond
  const times = { page: [], ack: [], resolve: [], deploy: [] };
  for (const l of s.pagerduty?.log_entries ?? []) {
    const t = Date.parse(l.created_at);
    if (l.type === 'trigger_log_entry') times.page.push(t);
    if (l.type === 'acknowledge_log_entry') times.ack.push(t);
    if (l.type === 'resolve_log_entry') times.resolve.push(t);
  }
  for (const l of s.opsgenie?.logs ?? []) {
    const t = Date.parse(l.createdAt);
    if (/^Alert created/.test(l.log)) times.page.push(t);
    if (/^Alert acknowledged/.test(l.log)) times.ack.push(t);
    if (/^Alert closed/.test(l.log)) times.resolve.push(t);
  }
  for (const r of repos) for (const d of r.deployments) for (const st of d.statuses) if (st.state === 'success') times.deploy.push(Date.parse(st.created_at));
  for (const tl of e.timeline_must_include) {
    if (!(times[tl.kind] ?? []).includes(Date.parse(tl.at))) fail(slug, `timeline ${tl.kind} at ${tl.at} not found in sources`);
  }
  if (Date.parse(b.incident.created_at) !== times.page[0]) fail(slug, 'incident.created_at differs from the page');

  for (const m of e.must_not_appear) if (!raw.includes(JSON.stringify(m).slice(1, -1))) fail(slug, `must_not_appear "${m}" is not in the bundle`);
  for (const term of e.root_cause_terms) for (const m of e.must_not_appear) if (term.toLowerCase().includes(m.toLowerCase())) fail(slug, `root cause term "${term}" contains a forbidden string`);
  console.log(`ok   ${slug}`);
}
process.exit(failures ? 1 : 0);
