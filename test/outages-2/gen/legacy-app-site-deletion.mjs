// After Atlassian, April 2022: a team asked to deactivate a retired app was handed the ids of the
// customer sites that had it installed instead of the app's ids, and ran the existing bulk tool in
// "permanent" mode: 883 sites were purged in 23 minutes. No deployment or config change caused it.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'legacy-app-site-deletion';
export const source = 'Atlassian, "Post-Incident Review on the Atlassian Outage, April 5, 2022" (atlassian.com/engineering, 2022-04-29)';

export function build() {
  const I = new Incident({ seed: 220405, company: 'Lumenforge', domain: 'lumenforge.io' });
  I.person('oncall', 'Nadia Rahman', { login: 'nrahman' });
  I.person('ic', 'Jonas Eriksen', { login: 'jeriksen-sre' });
  I.person('op', 'Callum Fraser', { login: 'cfraser' });
  I.person('router', 'Yuki Morimoto', { login: 'ymorimoto' });
  I.person('life', 'Ifeoma Okafor', { login: 'iokafor' });
  I.person('sup', 'Diego Paredes', { login: 'dparedes-cs' });

  const from = ms('2022-04-05T05:00:00Z');
  const to = ms('2022-04-05T12:00:00Z');
  const runStart = ms('2022-04-05T07:38:02Z');
  const runEnd = ms('2022-04-05T08:01:14Z');
  const onset = ms('2022-04-05T07:38:30Z');
  const page = ms('2022-04-05T07:52:41Z');
  const ack = ms('2022-04-05T07:54:02Z');
  const resolve = ms('2022-04-18T16:40:27Z');
  const total = 883;
  const deleted = (t) => t < runStart ? 0 : t >= runEnd ? total : Math.round(total * (t - runStart) / (runEnd - runStart));

  // ---- GitHub: the bulk tool is months old; two deploys this morning are innocent
  I.commit('lumenforge/ops-bulk-tools', { message: 'bulk-site-op: accept --ids-file from object storage', author: 'life', at: ms('2021-11-09T10:00:00Z'), files: [
    { filename: 'cmd/bulk-site-op/main.go', patch: '@@ -31,6 +31,9 @@ func main() {\n \tflag.StringVar(&mode, "mode", "mark", "mark|permanent")\n+\tflag.StringVar(&idsFile, "ids-file", "", "local path or s3:// url with one id per line")\n \tflag.Parse()\n+\tids := mustReadIDs(idsFile)' },
  ] });
  I.deploy('lumenforge/ops-bulk-tools', { env: 'ops-runner', ref: 'v1.14.0', description: 'ops-bulk-tools v1.14.0', createdAt: ms('2021-11-10T09:00:00Z'), finishedAt: ms('2021-11-10T09:02:41Z') });

  I.commit('lumenforge/tenant-lifecycle', { message: 'Emit an audit event on mark-for-deletion as well as on purge', author: 'life', at: ms('2022-04-04T15:20:00Z'), files: [
    { filename: 'internal/lifecycle/delete.go', patch: '@@ -74,6 +74,7 @@ func (s *Service) MarkForDeletion(ctx context.Context, id CloudID, by string) error {\n \tif err := s.store.SetState(ctx, id, StateMarked); err != nil {\n \t\treturn err\n \t}\n+\ts.audit.Emit(ctx, audit.Event{Kind: "site.marked", CloudID: id, By: by})\n \treturn nil' },
  ] });
  const lifeDeploy = I.deploy('lumenforge/tenant-lifecycle', { env: 'production', ref: 'tl-2022.04.05.1', description: 'tenant-lifecycle tl-2022.04.05.1', createdAt: ms('2022-04-05T07:22:00Z'), finishedAt: ms('2022-04-05T07:29:55Z') });
  I.commit('lumenforge/site-router', { message: 'Return x-lf-cloud-id on every response for support tooling', author: 'router', at: ms('2022-04-04T11:00:00Z'), files: [
    { filename: 'src/handlers/respond.ts', patch: "@@ -12,6 +12,7 @@ export function respond(res: Response, site: SiteRecord | null) {\n   res.setHeader('x-lf-region', REGION);\n+  if (site) res.setHeader('x-lf-cloud-id', site.cloudId);\n   return res;\n }" },
  ] });
  const routerDeploy = I.deploy('lumenforge/site-router', { env: 'production', ref: 'sr-1882', description: 'site-router sr-1882', createdAt: ms('2022-04-05T07:30:00Z'), finishedAt: ms('2022-04-05T07:36:48Z') });

  // ---- Datadog
  const diurnal = (t) => 1 + 0.15 * Math.sin((t - from) / 7.2e6);
  I.series({ metric: 'site_router.site_not_found', expression: 'sum:site_router.site_not_found{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'request', fn: (t) => I.noise(22 * diurnal(t), 0.25) + deleted(t) * I.noise(41, 0.1) });
  I.series({ metric: 'site_router.requests', expression: 'sum:site_router.requests{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'request', fn: (t) => I.noise(2_400_000 * diurnal(t), 0.03) });
  I.series({ metric: 'tenant_lifecycle.purges', expression: 'sum:tenant_lifecycle.purges{env:production}.as_count()', scope: 'env:production', interval: 60, from, to, unit: 'site', fn: (t) => t >= runStart && t < runEnd + MIN ? I.noise(38, 0.15) : 0 });
  I.series({ metric: 'support.tickets.created', expression: 'sum:support.tickets.created{priority:urgent}.as_count()', scope: 'priority:urgent', interval: 300, from, to, unit: 'ticket', fn: (t) => t > runStart + 5 * MIN ? I.noise(60 + deleted(t) / 8, 0.2) : I.noise(3, 0.6) });
  I.ddEvent({ at: lifeDeploy.finishedAt, title: 'Deployed tenant-lifecycle tl-2022.04.05.1', source_type_name: 'deploy', tags: ['service:tenant-lifecycle', 'env:production', 'repo:lumenforge/tenant-lifecycle'] });
  I.ddEvent({ at: routerDeploy.finishedAt, title: 'Deployed site-router sr-1882', source_type_name: 'deploy', tags: ['service:site-router', 'env:production', 'repo:lumenforge/site-router'] });
  I.ddEvent({ at: ms('2022-04-05T07:52:20Z'), title: '[P1] Triggered: site-router site_not_found > 2000/min', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:site-router'] });

  // ---- logs
  const op = I.p('op');
  I.log(runStart - 40 * SEC, 'ops-runner', 'info', 'ops-runner-2', `job insight-legacy-deactivation started by ${op.email}: bulk-site-op --mode=permanent --ids-file=s3://lf-ops-jobs/2022-04/insight-legacy-ids.csv --confirm`);
  I.log(runStart - 38 * SEC, 'ops-runner', 'info', 'ops-runner-2', `bulk-site-op: read ${total} ids; id type resolved as cloudId (site); mode=permanent (soft-delete skipped)`);
  I.logsBetween(runStart, runEnd, 160, 'tenant-lifecycle', 'warn', ['tl-worker-1', 'tl-worker-2', 'tl-worker-3'], () => `PURGE cloudId=${I.hex(8)}-${I.hex(4)}-${I.hex(4)}-${I.hex(4)}-${I.hex(12)} requested_by=ops-runner job=insight-legacy-deactivation mode=permanent: products, users, attachments and backups-index entries removed`);
  I.log(runEnd + 2 * SEC, 'ops-runner', 'info', 'ops-runner-2', `job insight-legacy-deactivation finished: ${total}/${total} ids processed, 0 errors`);
  const routers = ['sr-use1-a', 'sr-use1-b', 'sr-euc1-a', 'sr-apse2-a'];
  I.logsBetween(from, to, 220, 'site-router', 'info', routers, () => `GET https://${I.pick(['acme', 'northwind', 'globex', 'initech', 'hooli', 'vandelay'])}-${I.int(10, 99)}.lumenforge.net${I.pick(['/wiki/home', '/board/12', '/rest/api/3/issue', '/'])} 200 ${I.int(8, 220)}ms`);
  I.logsBetween(onset, to, 240, 'site-router', 'error', routers, () => `404 site not found: host=${I.pick(['delta', 'bluth', 'wayne', 'stark', 'tyrell', 'umbrella'])}-${I.int(10, 99)}.lumenforge.net cloudId lookup returned PURGED (catalog has no active record)`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] site-router site_not_found > 2000/min', 'site-router');
  I.pdNotify(page + 900, 'oncall');
  I.pdAck(ack, 'oncall');
  I.pdNote(ms('2022-04-05T08:12:00Z'), 'ic', `Sites are not broken, they are gone: tenant-lifecycle purged ${total} sites between 07:38 and 08:01, requested by ops-runner job insight-legacy-deactivation (ids were site ids, mode=permanent).`);
  I.pdNote(ms('2022-04-05T09:40:00Z'), 'ic', 'No rollback possible: purge is not undoable. Restoring sites from backups, batch restore tooling being written.');
  I.pdNote(ms('2022-04-18T16:35:00Z'), 'ic', 'All 883 sites restored and verified.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (hms) => ms(`2022-04-05T${hms}Z`);
  I.bot(at('07:52:43'), 'PagerDuty', ':rotating_light: *Triggered* #55102 [P1] site-router site_not_found > 2000/min');
  I.say(at('07:54:40'), 'oncall', 'ack. site-router returning 404 site not found for a growing number of customer sites since ~07:38');
  const th = I.say(at('07:55:30'), 'router', 'sr-1882 finished 07:36, right before. it only adds a response header but I can roll back');
  I.say(at('07:56:50'), 'oncall', 'the 404s say the catalog has the cloudId as PURGED. the router is reporting the truth, the sites are missing', { thread: th });
  I.say(at('07:57:30'), 'sup', 'support queue exploding: customers say their whole site is gone, not slow. ~40 urgent tickets in 5 min');
  I.say(at('07:58:10'), 'life', 'we shipped tl-2022.04.05.1 at 07:29, only adds an audit event on mark-for-deletion. looking at purge logs now');
  I.say(at('08:00:05'), 'ic', "IC here. is this a catalog/db problem? could the lookups be failing open to 'purged'?");
  I.say(at('08:01:40'), 'life', 'no, the purges are real. tenant-lifecycle logs: PURGE requested_by=ops-runner job=insight-legacy-deactivation mode=permanent, hundreds of them since 07:38');
  I.say(at('08:03:20'), 'op', 'that is my job, deactivating the legacy Insight app. the ids file I got from the app team... it has 883 cloudIds. those are site ids, not the app install ids');
  I.say(at('08:04:00'), 'op', 'and I ran it with --mode=permanent because the runbook said the app data was already exported. it just finished, 883/883');
  I.say(at('08:05:10'), 'ic', 'ok. stop any other runs of that job. nobody roll back sr-1882 or tl-2022.04.05.1, they are unrelated');
  I.say(at('08:06:30'), 'life', 'permanent mode skips the soft-delete, so there is no undelete. we need restore from backups, per site');
  I.say(at('08:09:00'), 'router', `I can pull the purged list from the catalog, using the readonly key LF_CATALOG_RO=${I.secret('lfk_live_4cT9qW2ZmR7xN0pV8sK3yB6e')}`);
  I.say(at('08:09:40'), 'ic', 'please do not paste keys in here. rotate that one after');
  I.say(at('08:20:00'), 'life', 'first site restored by hand, took 50 min end to end. we need automation for 883');
  I.say(at('09:35:00'), 'ic', 'status page updated: a maintenance script deleted sites; no data breach; restores will take days');
  I.bot(ms('2022-04-18T16:40:29Z'), 'PagerDuty', ':white_check_mark: *Resolved* #55102 [P1] site-router site_not_found > 2000/min');

  const incident = { id: 'PLF55102', source: 'pagerduty', title: '[P1] site-router site_not_found > 2000/min', service: 'site-router', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 55102, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://lumenforge.pagerduty.com/incidents/PLF55102' };
  const bundle = I.bundle({ incident, channel: { id: 'C03SITESGONE', name: 'inc-sites-missing' } });
  const expected = {
    family: 'operator-action',
    trigger: null,
    spike_onset: { metric: 'site_router.site_not_found', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['insight-legacy-deactivation', 'permanent', 'site ids', 'purge', 'bulk-site-op'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
