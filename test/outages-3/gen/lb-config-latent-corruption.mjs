// After Google Cloud, 2021-11-16: a routine configuration change to the external load balancers went
// through a configuration service carrying a latent bug; the service produced a corrupted
// configuration (URL maps with their host rules dropped) and pushed it to the front ends, which then
// answered 404 for customers' hosts. Pausing the pipeline and pushing the last known good configuration
// ended it.
import { Incident, ms, iso, isoS, MIN, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'lb-config-latent-corruption';
export const source = 'Google Cloud Service Health, "Incident Report: Multiple Google Cloud services experiencing issues" (Cloud Networking, 2021-11-16), and the preliminary report of the same day';

export function build() {
  const I = new Incident({ seed: 211116, company: 'Stratacloud', domain: 'stratacloud.com' });
  I.person('oncall', 'Wen Jie Tan', { login: 'wjtan' });
  I.person('ic', 'Rebecca Holloway', { login: 'rholloway' });
  I.person('cfg', 'Andrés Villalobos', { login: 'avillalobos' });
  I.person('cfg2', 'Ingrid Sørensen', { login: 'isorensen' });
  I.person('fe', 'Kofi Mensah', { login: 'kmensah' });
  I.person('cdn', 'Laura Bianchi', { login: 'lbianchi' });

  const from = ms('2021-11-16T15:30:00Z');
  const to = ms('2021-11-16T21:00:00Z');
  const change = ms('2021-11-16T17:33:10Z');
  const onset = ms('2021-11-16T17:35:20Z');
  const page = ms('2021-11-16T17:37:44Z');
  const ack = ms('2021-11-16T17:38:31Z');
  const lkg = ms('2021-11-16T18:52:00Z');
  const recovered = ms('2021-11-16T19:28:00Z');
  const resolve = ms('2021-11-16T19:41:20Z');

  // ---- lbconfig-service: in-place delta application (May), the fix after the incident
  const LS = 'stratacloud/lbconfig-service';
  const latent = I.commit(LS, { message: 'Apply URL-map deltas in place instead of copy-on-write\n\nCopying every URL map per delta costs 40% of the compile time for large projects.', author: 'cfg2', at: ms('2021-05-10T12:00:00Z'), files: [
    { filename: 'compiler/urlmap_delta.go', patch: '@@ -61,14 +61,12 @@ func (c *Compiler) applyDelta(m *UrlMap, d *Delta) (*UrlMap, error) {\n-\tout := m.DeepCopy()\n-\tfor _, r := range d.RemovedHostRules {\n-\t\tout.HostRules = removeRule(out.HostRules, r)\n-\t}\n-\treturn out, nil\n+\t// shared maps are referenced by several target proxies; mutate once\n+\tfor i, r := range m.HostRules {\n+\t\tif d.Removes(r) {\n+\t\t\tm.HostRules = append(m.HostRules[:i], m.HostRules[i+1:]...)\n+\t\t}\n+\t}\n+\treturn m, nil' },
  ] });
  I.deploy(LS, { env: 'production', ref: 'lbcfg-2021.05.12', description: 'lbconfig-service 2021.05.12', createdAt: ms('2021-05-12T09:00:00Z'), finishedAt: ms('2021-05-12T11:40:33Z') });
  I.commit(LS, { message: 'Metrics: export compile duration per project', author: 'cfg', at: ms('2021-11-08T10:00:00Z'), files: [
    { filename: 'compiler/metrics.go', patch: '@@ -12,3 +12,6 @@ var (\n+\tcompileSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{\n+\t\tName: "lbcfg_compile_seconds"}, []string{"project"})\n )' },
  ] });
  I.deploy(LS, { env: 'production', ref: 'lbcfg-2021.11.09', description: 'lbconfig-service 2021.11.09', createdAt: ms('2021-11-09T09:00:00Z'), finishedAt: ms('2021-11-09T10:02:11Z') });

  // ---- front-end binary canary (innocent), the change events
  I.commit('stratacloud/frontend', { message: 'HTTP/2: raise initial stream window to 1 MiB', author: 'fe', at: ms('2021-11-15T14:00:00Z'), files: [
    { filename: 'h2/settings.cc', patch: '@@ -18,7 +18,7 @@ constexpr Settings kDefaults = {\n-    .initial_window_size = 65535,\n+    .initial_window_size = 1 << 20,' },
  ] });
  const feDeploy = I.deploy('stratacloud/frontend', { env: 'production-canary', ref: 'gfe-1116-rc2', description: 'frontend gfe-1116-rc2 canary (2% of front ends, us-central)', createdAt: ms('2021-11-16T17:02:00Z'), finishedAt: ms('2021-11-16T17:19:45Z') });
  const ce = I.changeEvent({ at: change, summary: 'lbconfig rev 88213 pushed: remove 214 unused host rules (batch cleanup, shared URL maps)', integration: 'lbconfig-pipeline', services: ['global-lb'], custom_details: { revision: 88213, previous: 88212, change: 'remove unused host rules', host_rules_removed: 214, url_maps_touched: 57, shared_url_maps: 9, rollout: 'all front ends (config)' } });
  I.changeEvent({ at: ms('2021-11-16T17:34:40Z'), summary: 'CDN cache policy updated: default TTL 3600 -> 7200 for project media-prod', integration: 'cdn-console', services: ['cdn'], custom_details: { project: 'media-prod', default_ttl: { from: 3600, to: 7200 } } });
  I.changeEvent({ at: ms('2021-11-16T18:10:00Z'), summary: 'lbconfig pipeline paused (manual)', integration: 'lbconfig-pipeline', services: ['global-lb'], custom_details: { paused_by: 'incident', reason: 'INC 44120' } });
  I.changeEvent({ at: lkg, summary: 'lbconfig rev 88212 (last known good) force-pushed to all front ends', integration: 'lbconfig-pipeline', services: ['global-lb'], custom_details: { revision: 88212, mode: 'force', rollout: 'all front ends (config)' } });

  // ---- Datadog
  const bad = (t) => (t < onset ? 0 : t < lkg ? 1 : Math.max(0, 1 - (t - lkg) / (recovered - lkg)));
  I.series({ metric: 'frontend.responses.404', expression: 'sum:frontend.responses.404{reason:no_host_rule}.as_count()', scope: 'reason:no_host_rule', interval: 20, from, to, unit: 'response', fn: (t) => I.noise(900, 0.2) + bad(t) * I.noise(3_100_000, 0.06) });
  I.series({ metric: 'lbconfig.urlmap.host_rules', expression: 'sum:lbconfig.urlmap.host_rules{pushed:true}', scope: 'pushed:true', interval: 60, from, to, unit: 'rule', fn: (t) => (t < change + 60 * SEC ? 48_210 : t < lkg ? 11_902 : 48_206) });
  I.ddEvent({ at: feDeploy.finishedAt, title: 'frontend gfe-1116-rc2 canary at 2%', source_type_name: 'deploy', tags: ['service:frontend'] });
  I.ddEvent({ at: ms('2021-11-16T17:37:30Z'), title: '[P1] Triggered: global LB 404 (no_host_rule) > 0.5%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:global-lb'] });

  // ---- logs
  I.log(change + 20 * SEC, 'lbconfig-service', 'info', 'lbcfg-compiler-3', 'rev 88213: compiled 57 url maps (9 shared) in 14.2s; host rules 48210 -> 11902');
  I.log(change + 21 * SEC, 'lbconfig-service', 'warn', 'lbcfg-compiler-3', 'rev 88213: validation skipped for shared url maps (delta-only check): um-shared-0007, um-shared-0011, um-shared-0019 ...');
  I.log(change + 50 * SEC, 'config-distributor', 'info', 'cfgdist-1', 'rev 88213 delivered to 2,398/2,400 front ends');
  const fes = ['fe-us-central1-a-118', 'fe-europe-west1-b-042', 'fe-asia-east1-c-007'];
  I.logsBetween(onset, recovered, 170, 'frontend', 'warn', fes, () => `404 no matching host rule host=${I.pick(['api.', 'www.', 'shop.', 'img.'])}${I.pick(['acme-retail.com', 'fleetly.io', 'nordbank.eu', 'pixelcart.co'])} url_map=um-shared-00${I.pick(['07', '11', '19'])} config_rev=88213`);
  I.logsBetween(from, to, 150, 'frontend', 'info', fes, () => `200 host=${I.pick(['api.fleetly.io', 'www.nordbank.eu'])} backend=bs-${I.int(100, 999)} rtt=${I.int(2, 80)}ms config_rev=${I.pick([88211, 88212])}`);
  I.log(ms('2021-11-16T16:20:00Z'), 'lbconfig-service', 'info', 'lbcfg-compiler-1', `fetched customer cert bundle via https://secrets.internal/v1/lb-certs?access_token=${I.secret('ya29.c.Kp8BStrata-Lb-Tok3n-0x9fQ')}`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] global LB 404 (no_host_rule) > 0.5%', 'global-lb');
  I.pdNotify(page + 500, 'oncall', 'phone call');
  I.pdAck(ack, 'oncall');
  I.pdEscalate(ms('2021-11-16T17:42:00Z'), 'ic');
  I.pdNote(ms('2021-11-16T18:12:00Z'), 'ic', 'rev 88213 (host rule cleanup) came out of the compiler with 36k host rules missing from shared URL maps; front ends answer 404. Pipeline paused; preparing force push of 88212.');
  I.pdNote(ms('2021-11-16T19:30:00Z'), 'ic', 'Last known good 88212 on all front ends since 18:52, 404s at baseline 19:28.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (t) => ms(`2021-11-16T${t}Z`);
  I.bot(at('17:37:47'), 'PagerDuty', ':rotating_light: *Triggered* #44120 [P1] global LB 404 (no_host_rule) > 0.5%');
  I.say(at('17:38:50'), 'oncall', 'ack. customers behind the global LB getting 404 "no matching host rule", many projects, all regions');
  const th = I.say(at('17:39:40'), 'fe', 'gfe-1116-rc2 canary started 17:19, rolling it back just in case');
  I.say(at('17:40:30'), 'oncall', 'the canary is 2% of front ends in one region; 404s are everywhere and the log lines say config_rev=88213', { thread: th });
  I.say(at('17:41:10'), 'cdn', 'I changed the CDN TTL for media-prod at 17:34, sorry if that is it');
  I.say(at('17:41:50'), 'oncall', 'TTL on one project cannot drop host rules for hundreds. no');
  I.say(at('17:48:20'), 'cfg', 'rev 88213 was the routine cleanup of unused host rules, pushed 17:33. the compiler log says host rules 48210 -> 11902. it should have removed 214');
  I.say(at('17:55:00'), 'cfg2', 'the deltas on shared url maps: since May we apply them in place and remove by index while iterating, and a shared map gets the delta once per referencing proxy. that is my change, it never met a cleanup touching shared maps before');
  I.say(at('18:05:30'), 'ic', 'IC. pause the pipeline, force-push 88212 everywhere. nobody pushes config until we have a fix with a full validation of shared maps');
  I.say(at('18:53:00'), 'cfg', '88212 force-pushed 18:52, front ends picking it up, 404s falling');
  I.say(at('19:29:00'), 'oncall', '404s at baseline');
  I.say(at('19:40:50'), 'ic', 'resolving. follow-ups: revert the in-place delta application, validate whole compiled config not just deltas, canary config pushes like binaries');
  I.bot(at('19:41:23'), 'PagerDuty', ':white_check_mark: *Resolved* #44120 [P1] global LB 404 (no_host_rule) > 0.5%');

  const incident = { id: 'Q7SC44120', source: 'pagerduty', title: '[P1] global LB 404 (no_host_rule) > 0.5%', service: 'global-lb', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 44120, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://stratacloud.pagerduty.com/incidents/Q7SC44120' };
  const bundle = I.bundle({ incident, channel: { id: 'C7GLBINC', name: 'inc-global-lb' } });
  const expected = {
    family: 'latent-defect',
    trigger: { kind: 'change_event', change_event_id: ce },
    latent_defect: { repo: LS, sha: latent },
    spike_onset: { metric: 'frontend.responses.404', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['88213', 'host rule', 'shared URL map', 'in place', 'lbconfig'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
