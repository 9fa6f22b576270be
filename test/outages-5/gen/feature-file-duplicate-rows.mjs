// After Cloudflare, 2025-11-18: a database permissions change let a query over the column catalogue
// see the underlying shard tables as well as the default ones; the job that builds the bot-scoring
// feature file from that query produced twice as many rows. The file is rebuilt every five minutes and
// pushed to every proxy; the proxy preallocates room for 200 features and unwraps the error when a file
// has more, so proxies panicked whenever a bad file arrived (intermittently at first, as the grant reached
// more database nodes). Stopping the file generation and pushing a known-good file ended it.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'feature-file-duplicate-rows';
export const source = 'Cloudflare, "Cloudflare outage on November 18, 2025" (blog.cloudflare.com, 2025-11-18)';

export function build() {
  const I = new Incident({ seed: 20251118, company: 'Ironveil', domain: 'ironveil.com' });
  I.person('oncall', 'Grace Mwangi', { login: 'gmwangi' });
  I.person('ic', 'Lars Eriksen', { login: 'leriksen' });
  I.person('data', 'Anika Sharma', { login: 'asharma' });
  I.person('bot', 'Mateo Rossi', { login: 'mrossi' });
  I.person('sec', 'Chloé Martin', { login: 'cmartin' });
  I.person('status', 'Ben Okoro', { login: 'bokoro' });
  const at = (t) => ms(t.length <= 8 ? `2025-11-18T${t}Z` : t);
  const from = at('08:00:00'), to = at('18:00:00');
  const onset = at('11:20:30'), page = at('11:31:10'), ack = at('11:31:50'), stopGen = at('14:24:00'), goodFile = at('14:30:00'), resolve = at('17:06:20');

  const EP = 'ironveil/edge-proxy';
  const latent = I.commit(EP, { message: 'bot-features: preallocate feature slots (MAX_FEATURES = 200) to avoid per-request allocation', author: 'bot', at: ms('2025-06-02T09:00:00Z'), files: [
    { filename: 'src/bot/features.rs', patch: '@@ -398,8 +398,16 @@ impl BotModule {\n+const MAX_FEATURES: usize = 200; // we use ~120 today\n+\n     pub fn load_features(&mut self, file: &FeatureFile) {\n-        self.features = file.rows().map(Feature::from).collect();\n+        let slots = FeatureSlots::with_capacity(MAX_FEATURES);\n+        self.features = slots.fill(file.rows()).unwrap();\n     }' },
  ] });
  I.deploy(EP, { env: 'edge-all', ref: 'proxy-2025.06.10', description: 'edge-proxy 2025.06.10', createdAt: ms('2025-06-10T06:00:00Z'), finishedAt: ms('2025-06-10T18:20:31Z') });

  const CG = 'ironveil/clickhouse-grants';
  I.commit(CG, { message: 'grants: rename role analytics_ro -> analytics_reader', author: 'data', at: ms('2025-11-17T13:00:00Z'), files: [{ filename: 'roles/analytics.sql', patch: '@@ -1,1 +1,1 @@\n-CREATE ROLE IF NOT EXISTS analytics_ro;\n+CREATE ROLE IF NOT EXISTS analytics_reader;' }] });
  const bad = I.commit(CG, { message: 'grants: explicit SELECT on r0.* for distributed-query users (per-user limits on subqueries)', author: 'data', at: ms('2025-11-17T16:00:00Z'), files: [{ filename: 'grants/distributed.sql', patch: '@@ -12,3 +12,6 @@\n GRANT SELECT ON default.* TO analytics_reader, featuregen;\n+-- subqueries on shards now run as the calling user, not the system account\n+GRANT SELECT ON r0.* TO analytics_reader, featuregen;\n+GRANT SHOW COLUMNS ON r0.* TO analytics_reader, featuregen;' }] });
  const trig = I.deploy(CG, { env: 'clickhouse-prod', ref: 'cg-1118-1', description: 'clickhouse-grants cg-1118-1 (rolling, node by node)', createdAt: at('10:48:00'), finishedAt: at('11:05:38'), creator: 'asharma' });
  I.repo(CG).deployment_commits[String(trig.id)] = I.repo(CG).commits.map((c) => c.sha);
  I.commit('ironveil/status-site', { message: 'status: new incident template footer', author: 'status', at: at('09:00:00'), files: [{ filename: 'templates/footer.html', patch: '@@ -3,1 +3,1 @@\n-<p>Subscribe to updates</p>\n+<p>Subscribe to updates by email or RSS</p>' }] });
  I.deploy('ironveil/status-site', { env: 'production', ref: 'ss-204', description: 'status-site 204 (hosted on external provider)', createdAt: at('11:09:00'), finishedAt: at('11:14:02'), creator: 'bokoro' });
  I.changeEvent({ at: at('11:17:45'), summary: 'DDoS: mitigation profile "l7-adaptive-v3" enabled for 12 enterprise zones', integration: 'ddos-console', services: ['ddos'], custom_details: { profile: 'l7-adaptive-v3', from: 'l7-adaptive-v2', to: 'l7-adaptive-v3', zones: 12 } });
  I.changeEvent({ at: stopGen, summary: 'featuregen: bot feature file generation and propagation paused', integration: 'ops-console', services: ['featuregen'], custom_details: { job: 'bot-features', from: 'enabled', to: 'paused' } });

  // a new file every 5 minutes; early on only some generations hit an updated node
  const win = (t) => Math.floor((t - onset) / (5 * MIN));
  const state = (t) => { if (t < onset) return 0; if (t >= goodFile) return Math.max(0, 1 - (t - goodFile) / (150 * MIN)) * 0.25; const w = win(t); return t > at('13:00:00') || w % 3 !== 1 ? 1 : 0.1; };
  I.series({ metric: 'edge.http.5xx', expression: 'sum:edge.http.5xx{*}.as_count()', scope: '*', interval: 30, from, to, unit: 'response', fn: (t) => I.noise(1500, 0.1) + state(t) * I.noise(4_200_000, 0.05) });
  I.series({ metric: 'featuregen.rows', expression: 'max:featuregen.rows{job:bot-features}', scope: 'job:bot-features', interval: 300, from, to, fn: (t) => (t < at('11:20:00') ? 118 : t >= stopGen ? 118 : win(t) % 3 === 1 && t < at('13:00:00') ? 118 : 236) });
  I.ddEvent({ at: at('11:05:38'), title: 'clickhouse-grants cg-1118-1 applied (clickhouse-prod)', source_type_name: 'deploy', tags: ['service:clickhouse'] });
  I.ddEvent({ at: at('11:14:02'), title: 'status-site 204 deployed', source_type_name: 'deploy', tags: ['service:status-site'] });

  const px = ['fl-ams-231', 'fl-ord-077', 'fl-hkg-140', 'fl-jnb-012'];
  I.logsBetween(onset, goodFile, 140, 'edge-proxy', 'error', px, () => `thread 'fl_worker' panicked at src/bot/features.rs:404:44:\ncalled \`Result::unwrap()\` on an \`Err\` value: FeatureCountExceeded { count: 236, limit: 200 }\n-> 5xx for ${I.pick(['bot-managed', 'all'])} traffic`);
  I.logsBetween(at('11:19:00'), stopGen, 24, 'featuregen', 'info', ['featuregen-1'], () => `SELECT name, type FROM system.columns WHERE table = 'http_request_features' ORDER BY name -> ${I.pick([118, 236, 236])} rows; feature file ${I.hex(8)} published to edge`);
  I.logsBetween(from, to, 50, 'clickhouse', 'info', ['ch-r0-14', 'ch-r0-52'], () => `query user=featuregen read ${I.int(1, 9)}M rows in ${I.int(80, 900)}ms`);
  I.log(at('10:50:00'), 'clickhouse-grants', 'info', 'ci-7', `applying with clickhouse-client --password ${I.secret('chg-Adm1n-Pw-2025-Kx7r')} --host ch-r0-01`);

  I.say(at('11:32:30'), 'oncall', 'ack. 5xx everywhere, flapping on and off every few minutes');
  const th = I.say(at('11:34:00'), 'sec', 'status page is down too. this looks like an attack on both. I switched the adaptive profile at 11:17 for some zones, maybe we are under a big L7 flood');
  I.say(at('11:36:30'), 'status', 'status-site is hosted on an external provider and my deploy 11:14 broke a template, unrelated to the edge. fixing separately', { thread: th });
  I.say(at('11:40:00'), 'oncall', 'request rate is normal, no flood. proxies are panicking: features.rs unwrap on FeatureCountExceeded', { thread: th });
  I.say(at('12:05:00'), 'bot', 'the bot feature file has 236 rows instead of 118: every feature twice. that overflows the 200 preallocated slots and the loader unwraps. file rebuilt every 5 min, so it flaps between good and bad');
  I.say(at('12:40:00'), 'data', 'duplicates come from the system.columns query, which does not filter by database. since cg-1118-1 (grants finished 11:05:38) featuregen also sees r0.http_request_features. nodes picked up the grant one by one, so some generations were still clean');
  I.say(at('13:05:00'), 'ic', 'IC. bypass the proxy for internal services where we can. stop featuregen, push the last good file');
  I.say(at('14:31:00'), 'bot', 'featuregen paused 14:24, known-good file pushed 14:30, proxies recovering');
  I.say(at('17:06:00'), 'ic', 'all services back. resolving. follow-ups: feature file ingest validates and keeps last good, no unwrap on config load, query filters database, global kill for feature files');

  return finish(I, { page, ack, resolve, monitor: '[SEV0] edge 5xx rate > 1%', service: 'edge-proxy', number: 251118, oncall: 'oncall', ic: 'ic',
    notes: [[at('12:45:00'), 'Bot feature file doubled (r0 columns visible after cg-1118-1 grants); proxies panic on load. Stopping generation.']],
    channel: { id: 'C0IRVEDG25', name: 'inc-edge-5xx' }, family: 'latent-defect', trigger: { repo: CG, sha: bad, deployment_id: trig.id },
    latent: { repo: EP, sha: latent }, metric: 'edge.http.5xx', onset, deployAt: trig.finishedAt, terms: ['cg-1118-1', 'feature file', 'r0', 'system.columns', 'unwrap'] });
}
