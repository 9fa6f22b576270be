// After GitHub, 2018-02-28: a memcached amplification attack of about 1.35 Tbps from tens of thousands of
// exposed memcached servers saturated the transit links of the edge. The site was unreachable for about
// five minutes and degraded for four more, until traffic was routed through the DDoS scrubbing provider.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'memcached-amplification-ddos';
export const source = 'GitHub Engineering, "February 28th DDoS Incident Report" (github.blog, 2018-03-01)';

export function build() {
  const I = new Incident({ seed: 20180228, company: 'Forgeline', domain: 'forgeline.dev' });
  I.person('oncall', 'Ingrid Solberg', { login: 'isolberg', slack: 'ingrid', email: 'ingrid.solberg@forgeline.dev' });
  I.person('ic', 'Marcus Oyelaran', { login: 'moyelaran' });
  I.person('net', 'Yuki Tanabe', { login: 'ytanabe' });
  I.person('web', 'Carlos Mendez-Ruiz', { login: 'cmendezr' });
  I.person('cdn', 'Priya Natarajan', { login: 'pnatarajan' });
  const at = (t) => ms(`2018-02-28T${t}Z`);
  const from = at('14:30:00'), to = at('19:00:00');
  const onset = at('17:21:00'), page = at('17:22:10'), ack = at('17:22:40'), scrub = at('17:26:05'), gone = at('17:30:20'), resolve = at('17:52:00');

  I.commit('forgeline/monolith', { message: 'Notifications: batch digest emails per repository', author: 'web', at: at('12:10:00'), files: [{ filename: 'app/jobs/digest_mailer_job.rb', patch: '@@ -18,3 +18,5 @@ class DigestMailerJob\n-    notifications.each { |n| deliver(n) }\n+    notifications.group_by(&:repository_id).each do |_, batch|\n+      deliver_batch(batch)\n+    end' }] });
  I.deploy('forgeline/monolith', { env: 'production', ref: 'deploy-8812', description: 'monolith deploy-8812', createdAt: at('16:40:00'), finishedAt: at('16:52:37'), creator: 'cmendezr' });
  I.changeEvent({ at: at('17:02:30'), summary: 'CDN: cache TTL for /assets/* raised 1h -> 24h', integration: 'cdn-admin', services: ['static-assets'], custom_details: { path: '/assets/*', from: '3600s', to: '86400s' } });
  I.changeEvent({ at: scrub, summary: 'BGP: announce 203.0.113.0/24 via scrubbing provider (AS64610), withdraw from direct transit', integration: 'netops-bgp', services: ['edge'], custom_details: { prefix: '203.0.113.0/24', action: 'divert-to-scrubbing' } });

  const attack = (t) => (t < onset ? 0 : t < gone ? 1 : 0);
  const down = (t) => (t < onset ? 0 : t < scrub ? 1 : t < gone ? 0.4 : 0);
  I.series({ metric: 'edge.ingress.gbps', expression: 'sum:edge.ingress.gbps{site:all}', scope: 'site:all', interval: 30, from, to, fn: (t) => I.noise(38, 0.08) + attack(t) * I.noise(1320, 0.05) });
  I.series({ metric: 'edge.http.success_rate', expression: 'avg:edge.http.success_rate{site:all}', scope: 'site:all', interval: 30, from, to, fn: (t) => I.noise(0.998, 0.001) * (1 - 0.97 * down(t)) });
  I.series({ metric: 'edge.udp.src_port_11211.pps', expression: 'sum:edge.udp.pps{src_port:11211}', scope: 'src_port:11211', interval: 30, from, to, fn: (t) => I.noise(40, 0.5) + attack(t) * I.noise(126_900_000, 0.04) });
  I.ddEvent({ at: at('16:52:37'), title: 'monolith deploy-8812 finished', source_type_name: 'deploy', tags: ['service:monolith'] });

  const routers = ['edge-r1.iad', 'edge-r2.iad', 'edge-r1.sea'];
  I.logsBetween(onset, gone, 80, 'edge-router', 'warn', routers, () => `%IF-4-CONGESTION: xe-0/0/${I.int(0, 7)} transit ingress ${I.int(96, 100)}% util, drops ${I.int(2, 9)}M pps; top talker proto=udp sport=11211 srcs=${I.int(30000, 52000)}`);
  I.logsBetween(onset, scrub, 50, 'haproxy', 'error', ['lb-3', 'lb-7'], () => `backend web/${I.hex(4)} health check timeout; frontend https queue full (${I.int(4000, 9000)} conns)`);
  I.logsBetween(from, to, 40, 'monolith', 'info', ['web-12', 'web-31'], () => `Completed 200 OK in ${I.int(40, 300)}ms (DigestMailerJob enqueued ${I.int(0, 3)})`);
  I.log(at('17:27:40'), 'netops-bgp', 'info', 'netops-1', `scrubbing provider API call ok: POST https://api.scrub.example/v2/divert?token=${I.secret('scrb_tok_4Hq9ZtW2mLx7Rv0pKc3N')} prefix=203.0.113.0/24`);

  I.say(at('17:22:50'), 'oncall', 'ack. site unreachable from every vantage point, lbs failing health checks');
  const th = I.say(at('17:23:20'), 'web', 'deploy-8812 finished 16:52, the digest mailer change. roll back?');
  I.say(at('17:23:50'), 'net', 'no, look at ingress: 1.3 Tbps of UDP from source port 11211 on every transit link. that is memcached reflection, not our app. app servers are idle', { thread: th });
  I.say(at('17:24:30'), 'cdn', 'the assets TTL change at 17:02 only touches cache headers, and it was 19 minutes fine before this');
  I.say(at('17:25:00'), 'ic', 'IC. divert to the scrubbing provider now');
  I.say(at('17:26:30'), 'net', 'announced via scrubbing 17:26:05, success rate coming back');
  I.say(at('17:31:00'), 'net', 'attack traffic dropped off 17:30, provider reports peak 1.35 Tbps / 126.9 Mpps');
  I.say(at('17:52:00'), 'ic', 'resolving, staying on scrubbing for now. follow-ups: automatic diversion on transit saturation, more transit headroom');

  return finish(I, { page, ack, resolve, monitor: 'edge success rate < 95%', service: 'edge', number: 18228, opsgenie: true, ogId: '3f1b7c20-8d4e-4a61-9e0b-5c2d7a8e1f44', oncall: 'oncall', ic: 'ic',
    notes: [[at('17:25:30'), 'Volumetric UDP/11211 reflection attack saturating transit. Diverting to scrubbing.']],
    channel: { id: 'C0FGLDDOS1', name: 'inc-site-down' }, family: 'ddos', trigger: null,
    metric: 'edge.ingress.gbps', scope: 'site:all', onset, terms: ['memcached', 'amplification', '11211', 'DDoS', 'scrubbing'] });
}
