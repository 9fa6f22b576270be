// After Cloudflare, 2019-07-02: a WAF managed rule whose regex backtracks catastrophically,
// pushed to every PoP at once, saturates edge CPU; a global kill of the managed rules recovers.
import { Incident, ms, iso, isoS, MIN, SEC } from './lib.mjs';

export const slug = 'waf-regex-global';
export const source = 'Cloudflare, "Details of the Cloudflare outage on July 2, 2019" (blog.cloudflare.com, 2019-07-12)';

export function build() {
  const I = new Incident({ seed: 70219, company: 'Skyvault', domain: 'skyvault.net' });
  I.person('oncall', 'Priya Natarajan', { login: 'pnatarajan-sv' });
  I.person('ic', 'Tobias Becker', { login: 'tbecker' });
  I.person('waf', 'Lukas Brandt', { login: 'lbrandt-waf' });
  I.person('waf2', 'Aisling Doherty', { login: 'adoherty' });
  I.person('net', 'Hiroshi Tanaka', { login: 'htanaka-net' });
  I.person('sup', 'Marta Silva', { login: 'msilva-cs' });
  I.person('dns', 'Oskar Lindgren', { login: 'olindgren' });

  const from = ms('2019-07-02T11:00:00Z');
  const to = ms('2019-07-02T15:30:00Z');
  const cpuUp = ms('2019-07-02T13:41:50Z');
  const onset = ms('2019-07-02T13:42:00Z');
  const kill = ms('2019-07-02T14:07:30Z');
  const recovered = ms('2019-07-02T14:08:10Z');
  const page = ms('2019-07-02T13:45:04Z');
  const ack = ms('2019-07-02T13:46:12Z');
  const resolve = ms('2019-07-02T15:04:31Z');

  // ---- GitHub: edge-proxy (innocent code release 25 min before), dns-resolver (innocent, global, closest), rules repo (culprit)
  I.commit('skyvault/edge-proxy', { message: 'Log the TLS session resumption outcome in the access log\n\nAdds $ssl_session_reused to the edge log format so we can track resumption rate per PoP.', author: 'dns', at: ms('2019-07-01T16:12:00Z'), files: [
    { filename: 'conf/log_format.conf', patch: "@@ -4,7 +4,8 @@ log_format edge_json escape=json\n   '\"status\":$status,'\n   '\"bytes\":$body_bytes_sent,'\n   '\"rt\":$request_time,'\n+  '\"tls_resumed\":\"$ssl_session_reused\",'\n   '\"colo\":\"$colo\"'\n   '}';" },
  ] });
  const ep1 = I.commit('skyvault/edge-proxy', { message: 'Bump openresty-lua-resty-core to 0.1.17rc1 in the edge image', author: 'waf2', at: ms('2019-07-02T09:40:00Z'), files: [
    { filename: 'Dockerfile.edge', patch: '@@ -12,7 +12,7 @@ RUN apt-get update && apt-get install -y \\\n-    lua-resty-core=0.1.16-1 \\\n+    lua-resty-core=0.1.17~rc1-1 \\\n     lua-resty-lrucache=0.09-1 \\' },
  ] });
  const epPrev = I.repo('skyvault/edge-proxy').commits[0].sha;
  I.deploy('skyvault/edge-proxy', { env: 'global', ref: 'edge-2019.07.02.1', description: 'edge-proxy edge-2019.07.02.1 to all colos (staged: canary -> 10% -> global)', createdAt: ms('2019-07-02T12:31:00Z'), finishedAt: ms('2019-07-02T13:16:48Z'), commits: [epPrev, ep1] });

  I.commit('skyvault/dns-resolver', { message: 'Export EDNS client-subnet hit ratio as a metric', author: 'dns', at: ms('2019-07-02T12:55:00Z'), files: [
    { filename: 'src/metrics.rs', patch: '@@ -88,6 +88,10 @@ pub fn register(reg: &Registry) {\n     reg.counter("resolver_queries_total", "queries");\n     reg.counter("resolver_cache_hits_total", "cache hits");\n+    reg.counter(\n+        "resolver_ecs_cache_hits_total",\n+        "cache hits served with an EDNS client-subnet scope",\n+    );\n }' },
  ] });
  I.deploy('skyvault/dns-resolver', { env: 'global', ref: 'resolver-v3.14.2', description: 'dns-resolver v3.14.2', createdAt: ms('2019-07-02T13:33:20Z'), finishedAt: ms('2019-07-02T13:41:46Z') });

  const RULES = 'skyvault/waf-managed-rules';
  I.commit(RULES, { message: 'Ruleset 2019.07.02-2: tune 100204 (SQLi comment evasion) false positives', author: 'waf2', at: ms('2019-07-02T08:02:00Z'), files: [
    { filename: 'rules/sqli/100204.yaml', patch: "@@ -3,7 +3,7 @@ id: 100204\n description: SQLi - comment sequence evasion\n mode: block\n-expression: '(?i)/\\*!?\\d{0,5}\\s*(?:union|select)'\n+expression: '(?i)/\\*!\\d{5}\\s*(?:union|select)\\b'\n paranoia: 2" },
  ] });
  I.deploy(RULES, { env: 'global', ref: 'rules-2019.07.02-2', description: 'Managed rules 2019.07.02-2 (global publish)', createdAt: ms('2019-07-02T08:30:10Z'), finishedAt: ms('2019-07-02T08:30:41Z') });
  const r1 = I.commit(RULES, { message: 'Changelog for 2019.07.02-3', author: 'waf', at: ms('2019-07-02T13:12:00Z'), files: [
    { filename: 'CHANGELOG.md', patch: '@@ -1,3 +1,8 @@\n # Managed rules changelog\n+\n+## 2019.07.02-3\n+- 100318 (simulate): inline JavaScript XSS via event handler assignment\n+- 100319 (simulate): XSS via `javascript:` URL in SVG href\n+\n ## 2019.07.02-2' },
  ] });
  const culprit = I.commit(RULES, { message: 'Add 100318 in simulate mode: XSS via inline JS assignment\n\nNew detection for payloads like `"};alert(1);x="` that close a JS string and assign.\nShips in simulate mode (log only) to measure hit rate before blocking.', author: 'waf', at: ms('2019-07-02T13:20:00Z'), files: [
    { filename: 'rules/xss/100318.yaml', status: 'added', patch: "@@ -0,0 +1,9 @@\n+id: 100318\n+description: XSS - inline JavaScript string break and assignment\n+mode: simulate\n+phase: request_body_and_args\n+expression: '(?:(?:\\\"|''|\\]|\\}|\\\\|\\d|(?:nan|infinity|true|false|null|undefined|symbol|math)|\\`|\\-|\\+)+[)]*;?((?:\\s|-|~|!|{}|\\|\\||\\+)*.*(?:.*=.*)))'\n+targets: [ARGS, ARGS_NAMES, REQUEST_BODY, REQUEST_COOKIES]\n+paranoia: 1\n+tags: [xss, javascript]\n+owasp: A7" },
  ] });
  const r3 = I.commit(RULES, { message: 'Add 100319 in simulate mode: javascript: URL in SVG href', author: 'waf2', at: ms('2019-07-02T13:24:00Z'), files: [
    { filename: 'rules/xss/100319.yaml', status: 'added', patch: "@@ -0,0 +1,7 @@\n+id: 100319\n+description: XSS - javascript URL in SVG xlink:href\n+mode: simulate\n+phase: request_body_and_args\n+expression: '(?i)<svg[^>]*xlink:href\\s*=\\s*[\"'']?\\s*javascript:'\n+targets: [ARGS, REQUEST_BODY]\n+paranoia: 1" },
  ] });
  const bad = I.deploy(RULES, { env: 'global', ref: 'rules-2019.07.02-3', description: 'Managed rules 2019.07.02-3 (global publish)', createdAt: ms('2019-07-02T13:41:02Z'), finishedAt: ms('2019-07-02T13:41:38Z'), commits: [r1, culprit, r3] });
  const revert = I.commit(RULES, { message: `Revert "Add 100318 in simulate mode: XSS via inline JS assignment"\n\nThis reverts commit ${culprit}.\nThe expression backtracks catastrophically on inputs with many '=' characters.`, author: 'waf2', at: ms('2019-07-02T14:38:00Z'), files: [
    { filename: 'rules/xss/100318.yaml', status: 'removed', patch: "@@ -1,9 +0,0 @@\n-id: 100318\n-description: XSS - inline JavaScript string break and assignment\n-mode: simulate\n-phase: request_body_and_args\n-expression: '(?:(?:\\\"|''|\\]|\\}|\\\\|\\d|(?:nan|infinity|true|false|null|undefined|symbol|math)|\\`|\\-|\\+)+[)]*;?((?:\\s|-|~|!|{}|\\|\\||\\+)*.*(?:.*=.*)))'\n-targets: [ARGS, ARGS_NAMES, REQUEST_BODY, REQUEST_COOKIES]\n-paranoia: 1\n-tags: [xss, javascript]\n-owasp: A7" },
  ] });
  I.deploy(RULES, { env: 'global', ref: 'rules-2019.07.02-4', description: 'Managed rules 2019.07.02-4 (revert 100318)', createdAt: ms('2019-07-02T14:49:40Z'), finishedAt: ms('2019-07-02T14:50:12Z'), commits: [revert] });
  I.commit('skyvault/dashboard', { message: 'Firewall analytics: fix tooltip overflow on narrow screens', author: 'sup', at: ms('2019-07-02T11:10:00Z'), files: [
    { filename: 'src/components/fw/Tooltip.tsx', patch: "@@ -21,7 +21,7 @@ export function Tooltip({ children }: Props) {\n-  return <div className=\"tt\" style={{ maxWidth: 480 }}>{children}</div>;\n+  return <div className=\"tt\" style={{ maxWidth: 'min(480px, 90vw)' }}>{children}</div>;\n }" },
  ] });
  I.deploy('skyvault/dashboard', { env: 'production', ref: 'dash-4412', description: 'dashboard dash-4412', createdAt: ms('2019-07-02T13:02:00Z'), finishedAt: ms('2019-07-02T13:09:12Z') });

  // ---- change events: the global kill and the re-enable
  I.changeEvent({ at: kill, summary: 'Global kill executed: waf_managed_rules disabled on all colos', integration: 'edge-killswitch', services: ['edge-proxy'], custom_details: { switch: 'waf_managed_rules', scope: 'global', previous: 'enabled', current: 'disabled', ticket: 'INC-7781' } });
  I.changeEvent({ at: ms('2019-07-02T14:52:05Z'), summary: 'Global kill released: waf_managed_rules enabled on all colos', integration: 'edge-killswitch', services: ['edge-proxy'], custom_details: { switch: 'waf_managed_rules', scope: 'global', previous: 'disabled', current: 'enabled', ruleset: '2019.07.02-4' } });
  I.changeEvent({ at: ms('2019-07-02T12:10:00Z'), summary: 'Capacity: drained colo FRA-2 for scheduled hardware maintenance', integration: 'colo-ops', services: ['edge-proxy'], custom_details: { colo: 'FRA-2', action: 'drain' } });

  // ---- Datadog
  const inc = (t) => t >= cpuUp && t < recovered;
  const diurnal = (t) => 1 + 0.08 * Math.sin((t - from) / 3.6e6);
  I.series({ metric: 'edge.proxy.cpu.utilization', scope: 'env:global,service:edge-proxy', interval: 10, from, to, unit: 'percent', fn: (t) => inc(t) ? Math.min(100, I.noise(98.7, 0.012)) : I.noise(37 * diurnal(t), 0.05) });
  I.series({ metric: 'edge.proxy.responses.5xx', expression: 'sum:edge.proxy.responses.5xx{env:global,service:edge-proxy}.as_count()', scope: 'env:global,service:edge-proxy', interval: 10, from, to, unit: 'response', fn: (t) => t >= onset && t < recovered ? I.noise(412000, 0.08) : I.noise(1900 * diurnal(t), 0.15) });
  I.series({ metric: 'edge.proxy.requests', expression: 'sum:edge.proxy.requests{env:global,service:edge-proxy}.as_count()', scope: 'env:global,service:edge-proxy', interval: 10, from, to, unit: 'request', fn: (t) => (t >= onset && t < recovered ? 0.62 : 1) * I.noise(540000 * diurnal(t), 0.03) });
  I.series({ metric: 'dns.resolver.queries', expression: 'sum:dns.resolver.queries{env:global}.as_count()', scope: 'env:global,service:dns-resolver', interval: 10, from, to, unit: 'query', fn: (t) => I.noise(880000 * diurnal(t), 0.03) });
  I.ddEvent({ at: bad.finishedAt, title: 'WAF managed rules 2019.07.02-3 published globally', text: '%%% \nPublished 2 new rules (100318, 100319, simulate) to all colos in 36s\n %%%', source_type_name: 'deploy', tags: ['service:waf', 'env:global', 'repo:skyvault/waf-managed-rules'] });
  I.ddEvent({ at: ms('2019-07-02T13:43:40Z'), title: '[P1] Triggered: edge-proxy 5xx rate above 2% (global)', text: '5xx ratio 44.1% over last 1m', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:edge-proxy', 'monitor'] });
  I.ddEvent({ at: ms('2019-07-02T14:09:20Z'), title: '[P1] Recovered: edge-proxy 5xx rate above 2% (global)', alert_type: 'success', source_type_name: 'monitor alert', tags: ['service:edge-proxy', 'monitor'] });
  I.snapshot('edge CPU', 'avg:edge.proxy.cpu.utilization{env:global} by {colo}');

  // ---- logs
  const hosts = ['metal-lhr-0412', 'metal-sjc-0931', 'metal-sin-0207', 'metal-fra-1120', 'metal-iad-0077', 'metal-gru-0311'];
  const paths = ['/', '/api/v4/zones', '/wp-login.php', '/cart', '/static/app.js', '/graphql'];
  I.logsBetween(from, to, 260, 'edge-proxy', 'info', hosts, () => `${I.pick(['GET', 'GET', 'POST'])} ${I.pick(paths)} ${I.pick([200, 200, 200, 304, 301])} rt=${(I.rng() * 0.09).toFixed(3)} colo=${I.pick(['LHR', 'SJC', 'SIN', 'FRA', 'IAD', 'GRU'])}`);
  I.logsBetween(onset, recovered, 230, 'edge-proxy', 'error', hosts, (t) => `${new Date(t).toISOString().slice(0, 19).replace('T', ' ').replace(/-/g, '/')} [error] ${I.int(30000, 49999)}#0: *${I.int(1e6, 9e6)} upstream timed out (110: Connection timed out) while reading response header from upstream, client: 198.51.100.${I.int(2, 250)}, server: _, request: "POST ${I.pick(paths)} HTTP/1.1", upstream: "http://127.0.0.1:8081${I.pick(paths)}"`);
  I.logsBetween(cpuUp, recovered, 120, 'edge-proxy', 'warn', hosts, () => `lua watchdog: worker ${I.int(30000, 49999)} busy ${I.int(2100, 9800)}ms in waf.phase_rewrite -> waf/matcher.lua:211 re.match (ruleset=managed/2019.07.02-3) cpu_saturated=true`);
  I.logsBetween(onset, recovered, 60, 'edge-proxy', 'error', hosts, () => `502 Bad Gateway served: origin fetch aborted, worker overloaded (ruleset=managed/2019.07.02-3, queue_depth=${I.int(900, 4000)})`);
  I.logsBetween(kill, kill + 60 * SEC, 6, 'edge-proxy', 'info', hosts, () => 'killswitch: waf_managed_rules=disabled (global); skipping managed ruleset evaluation');

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] edge-proxy 5xx rate above 2% (global)', 'edge-proxy');
  I.pdNotify(page + 1000, 'oncall');
  I.pdAck(ack, 'oncall');
  I.pdEscalate(ms('2019-07-02T13:47:30Z'), 'ic');
  I.pdNote(ms('2019-07-02T13:58:00Z'), 'ic', 'CPU 100% on every edge metal, all colos at once. Not an attack per network team. Profiling points at WAF regex evaluation.');
  I.pdNote(ms('2019-07-02T14:08:40Z'), 'ic', 'Global kill of WAF managed rules at 14:07. CPU and 5xx back to normal.');
  I.pdResolve(resolve, 'ic');
  I.pdAlert(ms('2019-07-02T13:45:03Z'), '[P1] edge-proxy 5xx rate above 2% (global)', { query: 'sum(last_1m):sum:edge.proxy.responses.5xx{env:global}.as_count() / sum:edge.proxy.requests{env:global}.as_count() > 0.02', value: '0.441' });

  // ---- Slack
  const at = (hms) => ms(`2019-07-02T${hms}Z`);
  I.bot(at('13:45:06'), 'PagerDuty', ':rotating_light: *Triggered* #18223 [P1] edge-proxy 5xx rate above 2% (global)');
  I.say(at('13:46:30'), 'oncall', "ack'd. 5xx everywhere, not one colo: LHR, SJC, SIN all red. CPU pegged at 100% on the metals");
  I.say(at('13:47:05'), 'net', 'is this an attack? traffic shape looks odd, checking the L3/4 dashboards');
  I.say(at('13:47:50'), 'ic', "I'm IC. Opening #inc-edge-cpu. Everyone not on this please stay out of the channel");
  const t1 = I.say(at('13:48:40'), 'oncall', 'edge-proxy release edge-2019.07.02.1 went global at 13:16, bumps lua-resty-core. candidate?');
  I.say(at('13:49:55'), 'waf2', "that one finished its staged rollout half an hour before this and canary looked clean, I don't think so", { thread: t1 });
  I.say(at('13:50:20'), 'net', 'no volumetric attack. pps inbound is actually down, not up. we are dropping because we are CPU bound');
  I.say(at('13:51:02'), 'dns', 'fwiw resolver v3.14.2 went out at 13:41 but it only adds a counter, and resolver CPU is flat');
  I.say(at('13:51:40'), 'sup', 'customers reporting 502s on every site, status page going up now');
  I.say(at('13:53:10'), 'oncall', 'perf top on metal-lhr-0412: 89% in pcre_exec / re.match called from waf/matcher.lua:211. every core');
  I.say(at('13:54:00'), 'waf', "the WAF managed rules 2019.07.02-3 publish went global at 13:41:38. it added 100318 and 100319, both simulate mode. simulate still evaluates the regex though");
  I.say(at('13:55:25'), 'ic', "ok so working theory: WAF regex burning CPU. can we kill WAF globally? what's the blast radius?");
  I.say(at('13:56:10'), 'waf2', 'global kill of waf_managed_rules drops all managed-rule protection for every customer until we re-enable. custom rules stay on');
  I.say(at('13:57:30'), 'net', 'still think we should look at the BGP side, saw a few session flaps in GRU');
  I.say(at('13:58:20'), 'oncall', 'GRU flaps are from the FRA-2 drain shuffle this morning, unrelated. CPU is the problem everywhere');
  I.say(at('14:00:45'), 'ic', 'dashboards and API are on the same edge, so customers cannot even log in to turn things off themselves');
  I.say(at('14:02:10'), 'waf', 'proposing global kill of WAF managed rules now. we can re-enable after we pull 100318');
  I.say(at('14:03:00'), 'ic', 'approved. go');
  I.say(at('14:05:40'), 'waf', 'killswitch tool needs the internal auth which is also behind the edge... using the bypass path');
  I.say(at('14:06:15'), 'waf', `for the record the bypass call: curl -H "Authorization: Bearer ${I.secret('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJraWxsc3dpdGNoIiwicm9sZSI6ImVkZ2UtYWRtaW4ifQ.Qm9ndXNTaWduYXR1cmVGb3JUZXN0czEyMzQ1Njc4')}" https://killswitch.int.skyvault.net/v1/switches/waf_managed_rules -d state=disabled`);
  I.say(at('14:07:35'), 'waf', 'global kill executed 14:07:30');
  I.say(at('14:08:50'), 'oncall', 'CPU dropping across the board. 5xx back to baseline in LHR, SJC, SIN');
  I.say(at('14:09:40'), 'ic', 'confirmed recovery at ~14:08. now: find the rule, remove it, then re-enable managed rules');
  I.say(at('14:16:30'), 'waf2', 'reproduced on a test box: 100318 expression `.*(?:.*=.*)` on a 20kB body with lots of = takes seconds. catastrophic backtracking, it is that rule');
  I.say(at('14:18:00'), 'dns', 'should we roll back edge-2019.07.02.1 too just in case?');
  I.say(at('14:18:45'), 'waf2', "no need, CPU is normal with that release and WAF off. it's the regex", );
  I.say(at('14:38:30'), 'waf2', 'revert of 100318 is up, publishing as 2019.07.02-4');
  I.say(at('14:50:30'), 'waf2', 'rules-2019.07.02-4 published globally (100318 removed)');
  I.say(at('14:52:20'), 'waf', 'global kill released, managed rules back on with 2019.07.02-4. CPU flat');
  I.say(at('15:03:50'), 'ic', "resolving. follow-ups: staged rollout for rules, regex CPU limits, killswitch reachable when the edge is down. I'll schedule the review");
  I.bot(at('15:04:33'), 'PagerDuty', ':white_check_mark: *Resolved* #18223 [P1] edge-proxy 5xx rate above 2% (global)');

  const incident = { id: 'PX7K2Q9', source: 'pagerduty', title: '[P1] edge-proxy 5xx rate above 2% (global)', service: 'edge-proxy', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 18223, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://skyvault.pagerduty.com/incidents/PX7K2Q9' };
  const bundle = I.bundle({ incident, channel: { id: 'C04EDGECPU', name: 'inc-edge-cpu' } });
  const expected = {
    family: 'shared-config',
    trigger: { repo: RULES, sha: culprit, deployment_id: bad.id },
    spike_onset: { metric: 'edge.proxy.responses.5xx', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['100318', 'backtracking', 'regex', 'regular expression'],
    timeline_must_include: [
      { at: iso(bad.finishedAt), kind: 'deploy' },
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
