// After Fastly, 2021-06-08: one customer's valid configuration change, pushed to every cache node,
// hits a bug shipped in the May 12 software deployment; most of the network returns errors until
// the configuration is disabled. The fix ships the same afternoon.
import { Incident, ms, iso, isoS, SEC } from './lib.mjs';

export const slug = 'cdn-customer-config-latent';
export const source = 'Fastly, "Summary of June 8 outage" (fastly.com/blog, 2021-06-08)';

export function build() {
  const I = new Incident({ seed: 210608, company: 'Quillcast', domain: 'quillcast.com' });
  I.person('oncall', 'Nadia Karimi', { login: 'nkarimi' });
  I.person('ic', 'Ewan MacLeod', { login: 'emacleod-qc' });
  I.person('rt', 'Sven Aalto', { login: 'saalto' });
  I.person('rt2', 'Chiara Benedetti', { login: 'cbenedetti' });
  I.person('cp', 'Jamal Price', { login: 'jprice-cp' });
  I.person('sup', 'Lena Vogel', { login: 'lvogel' });

  const from = ms('2021-06-08T07:00:00Z');
  const to = ms('2021-06-08T18:30:00Z');
  const cfgAt = ms('2021-06-08T09:47:02Z');
  const onset = ms('2021-06-08T09:47:30Z');
  const disableAt = ms('2021-06-08T10:35:10Z');
  const recovered = ms('2021-06-08T10:36:00Z');
  const page = ms('2021-06-08T09:48:21Z');
  const ack = ms('2021-06-08T09:49:03Z');
  const resolve = ms('2021-06-08T11:21:44Z');

  // ---- GitHub: edge-runtime (May 12 deploy carries the latent bug; June 7 release innocent; 17:25 fix)
  const RT = 'quillcast/edge-runtime';
  I.commit(RT, { message: 'h2: honour SETTINGS_MAX_HEADER_LIST_SIZE from the client', author: 'rt2', at: ms('2021-05-06T12:00:00Z'), files: [
    { filename: 'src/h2/settings.rs', patch: '@@ -40,6 +40,7 @@ impl Settings {\n             SETTINGS_MAX_CONCURRENT_STREAMS => self.max_streams = v,\n+            SETTINGS_MAX_HEADER_LIST_SIZE => self.max_header_list = Some(v),\n             _ => {}' },
  ] });
  const latent = I.commit(RT, { message: 'ESI: key fragment cache by include depth\n\nNested ESI includes now get a cache-key slot per depth level so that the same fragment\nincluded at different depths is cached separately. Slots are sized from the service\nconfig esi_max_depth.', author: 'rt', at: ms('2021-05-10T15:20:00Z'), files: [
    { filename: 'src/esi/fragment_key.rs', patch: '@@ -71,12 +71,21 @@ impl FragmentKeyer {\n-    pub fn new(cfg: &ServiceConfig) -> Self {\n-        FragmentKeyer { salt: cfg.service_id.hash() }\n+    pub fn new(cfg: &ServiceConfig) -> Self {\n+        let depth = cfg.esi_max_depth as usize;\n+        let mut slots = vec![KeySlot::default(); depth];\n+        // innermost level gets the terminal marker\n+        slots[depth - 1] = KeySlot::terminal();\n+        FragmentKeyer { salt: cfg.service_id.hash(), slots }\n     }' },
    { filename: 'src/config/loader.rs', patch: '@@ -210,6 +210,7 @@ fn activate(svc: ServiceConfig) -> Result<Activated> {\n     let vcl = compile_vcl(&svc)?;\n+    let esi = FragmentKeyer::new(&svc);\n     Ok(Activated { vcl, esi, svc })' },
  ] });
  const may12 = I.deploy(RT, { env: 'production', ref: 'v21.19.0', description: 'edge-runtime v21.19.0 fleet rollout', createdAt: ms('2021-05-12T13:00:00Z'), finishedAt: ms('2021-05-12T21:14:26Z') });
  I.commit(RT, { message: 'TLS: rotate session ticket keys every 6h instead of 12h', author: 'rt2', at: ms('2021-06-04T09:00:00Z'), files: [
    { filename: 'config/tls.toml', patch: '@@ -8,7 +8,7 @@ [session_tickets]\n-rotation_interval = "12h"\n+rotation_interval = "6h"\n keep_previous = 2' },
  ] });
  I.deploy(RT, { env: 'production', ref: 'v21.23.0', description: 'edge-runtime v21.23.0 fleet rollout', createdAt: ms('2021-06-07T13:00:00Z'), finishedAt: ms('2021-06-07T20:51:03Z') });
  const fix = I.commit(RT, { message: 'ESI: handle esi_max_depth = 0 (nested includes disabled)\n\nA service may set esi_max_depth to 0 to disable nested includes; FragmentKeyer::new\nunderflowed computing the innermost slot and panicked the config loader.', author: 'rt', at: ms('2021-06-08T14:40:00Z'), files: [
    { filename: 'src/esi/fragment_key.rs', patch: '@@ -73,8 +73,10 @@ impl FragmentKeyer {\n         let depth = cfg.esi_max_depth as usize;\n         let mut slots = vec![KeySlot::default(); depth];\n-        // innermost level gets the terminal marker\n-        slots[depth - 1] = KeySlot::terminal();\n+        // innermost level gets the terminal marker; depth 0 means nested includes are off\n+        if let Some(last) = slots.last_mut() {\n+            *last = KeySlot::terminal();\n+        }' },
  ] });
  I.deploy(RT, { env: 'production', ref: 'v21.23.1', description: 'edge-runtime v21.23.1 hotfix', createdAt: ms('2021-06-08T16:10:00Z'), finishedAt: ms('2021-06-08T17:25:19Z'), commits: [fix] });
  I.commit('quillcast/control-plane', { message: 'Config API: paginate service version list (100 per page)', author: 'cp', at: ms('2021-06-07T16:00:00Z'), files: [
    { filename: 'api/services/versions.go', patch: '@@ -31,7 +31,9 @@ func (h *Handler) ListVersions(w http.ResponseWriter, r *http.Request) {\n-\tversions, err := h.store.Versions(r.Context(), svcID)\n+\tpage := pageFrom(r, 100)\n+\tversions, err := h.store.VersionsPage(r.Context(), svcID, page)\n \tif err != nil {' },
  ] });
  I.deploy('quillcast/control-plane', { env: 'production', ref: 'cp-2021.06.08.2', description: 'control-plane cp-2021.06.08.2', createdAt: ms('2021-06-08T09:36:00Z'), finishedAt: ms('2021-06-08T09:44:37Z') });
  I.commit('quillcast/purge-api', { message: 'Surrogate-key purge: log batch size', author: 'cp', at: ms('2021-06-08T08:00:00Z'), files: [
    { filename: 'purge/batch.go', patch: '@@ -52,6 +52,7 @@ func (b *Batcher) Flush() {\n+\tlog.Debug("flush", "keys", len(b.keys))\n \tb.send(b.keys)' },
  ] });
  I.deploy('quillcast/purge-api', { env: 'staging', ref: 'purge-1.88.0', description: 'purge-api 1.88.0 to staging', createdAt: ms('2021-06-08T09:40:00Z'), finishedAt: ms('2021-06-08T09:46:20Z') });

  // ---- change events: customer service activations (many, routine), the culprit among them
  const act = (hms, svc, ver, acct, changed) => I.changeEvent({ at: ms(`2021-06-08T${hms}Z`), summary: `Service ${svc} version ${ver} activated (customer account ${acct})`, integration: 'Quillcast Config API', services: ['edge-delivery'], custom_details: { service_id: svc, version: ver, account_id: acct, changed, validated: true, propagation: 'all POPs' } });
  act('09:12:44', '2bRk7LpQxT1m', 311, '44817', ['backend.origin-eu.first_byte_timeout: 15s -> 20s']);
  act('09:29:03', '7yVn0Hs4KdQe', 58, '10932', ['request_setting.force_ssl: true']);
  act('09:41:37', '5gTq2WcM8aZr', 1204, '88120', ['header.add X-Frame-Options: DENY']);
  const culpritCe = act('09:47:02', '6tG2aaVx9ePk', 87, '71203', ['esi.enabled: true', 'esi_max_depth: 3 -> 0 (disable nested includes)']);
  act('09:47:14', '1mZc6YbN3rWs', 19, '30021', ['snippet recv: set req.http.X-Geo = client.geo.country_code']);
  act('10:02:55', '2bRk7LpQxT1m', 312, '44817', ['backend.origin-eu.first_byte_timeout: 20s -> 15s']);
  I.changeEvent({ at: disableAt, summary: 'Service 6tG2aaVx9ePk version 86 activated (rollback by Quillcast operations)', integration: 'Quillcast Config API', services: ['edge-delivery'], custom_details: { service_id: '6tG2aaVx9ePk', version: 86, account_id: '71203', changed: ['esi_max_depth: 0 -> 3'], actor: 'quillcast-ops', reason: 'INC-2106-08' } });

  // ---- Datadog
  const bad = (t) => t >= onset && t < recovered;
  I.series({ metric: 'edge.delivery.responses.5xx', expression: 'sum:edge.delivery.responses.5xx{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'response', fn: (t) => bad(t) ? I.noise(21_500_000, 0.05) : I.noise(42_000, 0.12) });
  I.series({ metric: 'edge.delivery.requests', expression: 'sum:edge.delivery.requests{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'request', fn: () => I.noise(25_200_000, 0.03) });
  I.series({ metric: 'edge.cache.process_restarts', expression: 'sum:edge.cache.process_restarts{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'event', fn: (t) => bad(t) ? I.noise(3600, 0.1) : I.noise(1.5, 0.9) });
  I.ddEvent({ at: ms('2021-06-08T09:48:10Z'), title: '[P1] Triggered: edge-delivery 5xx ratio > 1% (global)', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:edge-delivery'] });
  I.ddEvent({ at: ms('2021-06-08T10:37:30Z'), title: '[P1] Recovered: edge-delivery 5xx ratio > 1% (global)', alert_type: 'success', source_type_name: 'monitor alert', tags: ['service:edge-delivery'] });
  I.ddEvent({ at: ms('2021-06-08T09:44:37Z'), title: 'Deployed control-plane cp-2021.06.08.2', source_type_name: 'deploy', tags: ['service:control-plane', 'env:production'] });

  // ---- logs
  const caches = ['cache-lhr6621', 'cache-jfk11420', 'cache-nrt7120', 'cache-syd1881', 'cache-fra19129', 'cache-bos4632'];
  I.logsBetween(from, to, 220, 'edge-delivery', 'info', caches, () => `${I.pick(['GET', 'GET', 'HEAD'])} svc=${I.pick(['2bRk7LpQxT1m', '7yVn0Hs4KdQe', '5gTq2WcM8aZr', '1mZc6YbN3rWs'])} status=${I.pick([200, 200, 200, 304, 206])} cache=${I.pick(['HIT', 'HIT', 'MISS'])} ttfb_ms=${I.int(1, 90)}`);
  I.logsBetween(onset, recovered, 160, 'edge-delivery', 'error', caches, () => `thread 'cfg-loader' panicked at 'attempt to subtract with overflow', src/esi/fragment_key.rs:77:15\nnote: activating service 6tG2aaVx9ePk version 87\nstack backtrace:\n   0: rust_begin_unwind\n   1: core::panicking::panic\n   2: edge_runtime::esi::fragment_key::FragmentKeyer::new\n             at src/esi/fragment_key.rs:77:15\n   3: edge_runtime::config::loader::activate\n             at src/config/loader.rs:211:15\n   4: edge_runtime::config::loader::apply_pending\n             at src/config/loader.rs:164:9`);
  I.logsBetween(onset, recovered, 200, 'edge-delivery', 'error', caches, () => `503 Service Unavailable svc=${I.pick(['2bRk7LpQxT1m', '7yVn0Hs4KdQe', '5gTq2WcM8aZr', '1mZc6YbN3rWs', '9pXw2QeR5tYu'])} reason="cache process restarting" pop=${I.pick(['LHR', 'JFK', 'NRT', 'SYD', 'FRA', 'BOS'])}`);
  I.logsBetween(onset, recovered, 40, 'edge-delivery', 'warn', caches, () => `supervisor: cache process exited (signal 6), restart #${I.int(2, 90)} in 1s`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] edge-delivery 5xx ratio > 1% (global)', 'edge-delivery');
  I.pdNotify(page + 700, 'oncall', 'SMS');
  I.pdAck(ack, 'oncall');
  I.pdNote(ms('2021-06-08T10:12:00Z'), 'ic', 'Cache processes crash-looping in all POPs with a panic in the ESI fragment keyer while activating a customer service config.');
  I.pdNote(ms('2021-06-08T10:38:00Z'), 'ic', 'Customer service 6tG2aaVx9ePk rolled back to v86 at 10:35; 95% of network recovered by 10:36.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (hms) => ms(`2021-06-08T${hms}Z`);
  I.bot(at('09:48:23'), 'PagerDuty', ':rotating_light: *Triggered* #30412 [P1] edge-delivery 5xx ratio > 1% (global)');
  I.say(at('09:49:20'), 'oncall', 'ack. 5xx on ~85% of requests, every POP. cache processes restarting constantly');
  I.say(at('09:50:02'), 'ic', 'IC here. #inc-global-503. status page first please');
  const th = I.say(at('09:51:15'), 'cp', 'control-plane cp-2021.06.08.2 finished 09:44. it touches the config API. could it have pushed garbage?');
  I.say(at('09:53:40'), 'cp', 'checked: it only paginates the version list endpoint, activations go through the same code path as yesterday', { thread: th });
  I.say(at('09:54:30'), 'rt2', 'v21.23.0 went out yesterday, should we roll back the runtime?');
  I.say(at('09:55:10'), 'oncall', "v21.23.0 has been serving for 13 hours without this. the panic is in esi/fragment_key.rs which that release didn't touch");
  I.say(at('09:57:45'), 'sup', 'every big news site is down. press is calling');
  I.say(at('10:01:30'), 'rt', "panic is 'attempt to subtract with overflow' in FragmentKeyer::new while activating service 6tG2aaVx9ePk v87. that service's activation went out 09:47:02");
  I.say(at('10:04:15'), 'oncall', 'could be DDoS? seeing weird traffic from APAC');
  I.say(at('10:05:00'), 'ic', "traffic volume is normal, it's our cache processes dying. let's focus on the config");
  I.say(at('10:14:50'), 'rt', 'v87 of that service sets esi_max_depth 0 which is valid per docs (disables nested includes). FragmentKeyer::new does slots[depth - 1] since v21.19.0 (May 12). depth 0 -> underflow -> panic on every cache node loading it');
  I.say(at('10:20:12'), 'ic', 'fastest mitigation: roll that service back to v86 from our side. notify the customer after');
  I.say(at('10:27:40'), 'cp', `rolling back via admin API, token for the audit trail: ${I.secret('qc_admin_9b1f2e7c4d8a6b3e5f0a1c2d3e4f5a6b')}`);
  I.say(at('10:35:20'), 'cp', 'service 6tG2aaVx9ePk v86 activated 10:35:10');
  I.say(at('10:36:45'), 'oncall', 'restarts stopped, 5xx back at baseline in all POPs');
  I.say(at('10:50:00'), 'rt', 'fix for esi_max_depth = 0 in progress, will hotfix as v21.23.1 this afternoon. until then config API rejects esi_max_depth 0');
  I.say(at('11:21:00'), 'ic', 'resolving the page. hotfix tracked in RT-4412');
  I.bot(at('11:21:46'), 'PagerDuty', ':white_check_mark: *Resolved* #30412 [P1] edge-delivery 5xx ratio > 1% (global)');
  I.say(at('17:26:10'), 'rt', 'v21.23.1 fully rolled out 17:25');

  const incident = { id: 'P9QF3ZD', source: 'pagerduty', title: '[P1] edge-delivery 5xx ratio > 1% (global)', service: 'edge-delivery', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 30412, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://quillcast.pagerduty.com/incidents/P9QF3ZD' };
  const bundle = I.bundle({ incident, channel: { id: 'C02GLOB503', name: 'inc-global-503' } });
  const expected = {
    family: 'latent-defect',
    trigger: { kind: 'change_event', change_event_id: culpritCe },
    latent_defect: { repo: RT, sha: latent },
    spike_onset: { metric: 'edge.delivery.responses.5xx', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['esi_max_depth', 'FragmentKeyer', 'fragment_key.rs', '6tG2aaVx9ePk'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  void may12;
  return { bundle, expected };
}
