// After AWS us-east-1, 2021-12-07: an automated action scaling a service on the provider's main network
// set off a surge of connection activity from clients on its internal network, congesting the devices
// between the two networks. Control-plane APIs (instance launches, STS, API gateway) failed for hours
// while running instances kept serving. Seen from a customer: nothing of theirs changed.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'cloud-region-internal-network';
export const source = 'AWS, "Summary of the AWS Service Event in the Northern Virginia (US-EAST-1) Region" (aws.amazon.com/message/12721, 2021-12-10)';

export function build() {
  const I = new Incident({ seed: 20211207, company: 'Parcelpath', domain: 'parcelpath.io' });
  I.person('oncall', 'Chloé Marchand', { login: 'cmarchand' });
  I.person('ic', 'Samuel Adeyemi', { login: 'sadeyemi' });
  I.person('plat', 'Yuki Tanabe', { login: 'ytanabe' });
  I.person('app', 'Oliver Brandt', { login: 'obrandt' });
  I.person('sec', 'Fatima Zahra El Idrissi', { login: 'fidrissi', slack: 'fatima.elidrissi', email: 'fatima.elidrissi@parcelpath.io' });
  const at = (t) => ms(`2021-12-07T${t}Z`);
  const from = at('13:00:00'), to = at('23:30:00');
  const onset = at('15:32:00'), page = at('15:37:20'), ack = at('15:38:45'), providerFix = at('21:40:00'), resolve = at('22:41:10');

  I.commit('parcelpath/dispatch-api', { message: 'Routes: cache carrier quotes for 60s', author: 'app', at: at('11:00:00'), files: [{ filename: 'src/quotes/cache.ts', patch: '@@ -4,3 +4,4 @@\n export const quoteCache = new LRU({ max: 50_000,\n+  ttl: 60_000,\n })' }] });
  I.deploy('parcelpath/dispatch-api', { env: 'production', ref: 'v2291', description: 'dispatch-api v2291', createdAt: at('14:49:00'), finishedAt: at('14:58:12'), creator: 'obrandt' });
  I.changeEvent({ at: at('15:24:40'), summary: 'Flag quote-cache-v2 ramped 10% -> 50%', integration: 'flagship', services: ['dispatch-api'], custom_details: { flag: 'quote-cache-v2', from: 10, to: 50 } });

  const bad = (t) => (t < onset ? 0 : t < providerFix ? 1 : Math.max(0, 1 - (t - providerFix) / (50 * MIN)));
  I.series({ metric: 'cloud.api.errors', expression: 'sum:cloud.api.errors{region:nc-east-1}.as_count()', scope: 'region:nc-east-1', interval: 60, from, to, unit: 'error', fn: (t) => I.noise(3, 0.5) + bad(t) * I.noise(900, 0.15) });
  I.series({ metric: 'dispatch_api.requests.errors', expression: 'sum:dispatch_api.requests.errors{*}.as_count()', scope: '*', interval: 60, from, to, unit: 'error', fn: (t) => I.noise(25, 0.3) + (t < onset + 2 * MIN ? 0 : bad(t) * I.noise(1400, 0.2)) });
  I.series({ metric: 'dispatch_api.requests.ok', expression: 'sum:dispatch_api.requests.ok{*}.as_count()', scope: '*', interval: 60, from, to, fn: (t) => I.noise(42000, 0.05) * (1 - 0.08 * bad(t)) });
  I.ddEvent({ at: at('14:58:12'), title: 'dispatch-api v2291 deployed', source_type_name: 'deploy', tags: ['service:dispatch-api'] });
  I.ddEvent({ at: at('16:22:00'), title: 'Nimbus Cloud status: Increased API error rates, NC-EAST-1', text: 'We are investigating increased error rates for the EC2, STS and API Gateway APIs in NC-EAST-1. Existing instances are not affected.', source_type_name: 'status page', tags: ['provider:nimbus'] });
  I.ddEvent({ at: at('18:26:00'), title: 'Nimbus Cloud status: root cause identified', text: 'An automated activity to scale capacity of a service on the main network triggered unexpected behaviour from a large number of clients on the internal network, congesting the networking devices between the two. Mitigations in progress.', source_type_name: 'status page', tags: ['provider:nimbus'] });

  const hosts = ['dispatch-7f9c-1', 'dispatch-7f9c-4', 'worker-2b11-3'];
  I.logsBetween(onset, providerFix + 20 * MIN, 90, 'dispatch-api', 'error', hosts, () => I.pick([
    'nimbus sdk: RequestTimeout after 30000ms calling sts.AssumeRole (nc-east-1)',
    'autoscaler: RunInstances failed: InternalError (request id ' + I.hex(8) + ')',
    'label-printer webhook: API gateway 504 from execute-api.nc-east-1',
    'nimbus sdk: ServiceUnavailable calling secrets.GetSecretValue; using cached credentials']));
  I.logsBetween(from, to, 70, 'dispatch-api', 'info', hosts, () => `POST /v1/shipments 201 ${I.int(30, 200)}ms`);
  I.log(at('13:40:00'), 'dispatch-api', 'info', hosts[0], `carrier client ready: https://api.fastfreight.example/v2?api_key=${I.secret('ffk_live_7hQ2pParcelPath91xZ')}`);

  I.say(at('15:39:30'), 'oncall', 'ack. dispatch errors climbing, lots of timeouts to nimbus APIs, STS and RunInstances');
  const th = I.say(at('15:40:40'), 'app', 'v2291 went out at 14:58 with the quote cache TTL, rolling back to be safe?');
  I.say(at('15:42:10'), 'oncall', 'the errors are in calls to the cloud APIs, not quotes. and they started 34 min after your deploy', { thread: th });
  I.say(at('15:44:00'), 'plat', 'quote-cache-v2 ramp at 15:24 is the closest thing we changed. turning it back to 10%');
  I.say(at('15:58:00'), 'plat', 'flag back at 10% since 15:46, no change at all. also our autoscaler cannot launch anything, that has nothing to do with the flag');
  I.say(at('16:05:00'), 'sec', 'our own STS calls time out from a laptop too, so it is not our VPC');
  I.say(at('16:24:00'), 'ic', 'IC. nimbus status page confirms increased API errors in NC-EAST-1. running instances fine. freeze scaling and deploys, serve from running capacity, keep cached creds');
  I.say(at('18:30:00'), 'plat', 'nimbus update: an automated capacity scaling on their main network caused a surge from internal clients that congested the devices between their networks. nothing for us to roll back');
  I.say(at('21:45:00'), 'oncall', 'API calls succeeding again since ~21:40, error rate coming down');
  I.say(at('22:40:00'), 'ic', 'all clear, resolving. follow-ups: do not depend on STS in the request path, second region for launches');

  return finish(I, { page, ack, resolve, monitor: '[P1] dispatch-api error rate > 2%', service: 'dispatch-api', number: 3318, oncall: 'oncall', ic: 'ic',
    notes: [[at('16:30:00'), 'Provider event in NC-EAST-1: control-plane API errors. Nothing we shipped is involved; v2291 and the flag ramp ruled out.']],
    channel: { id: 'C0PPINC77', name: 'inc-dispatch' }, family: 'infra-no-change', trigger: null,
    metric: 'cloud.api.errors', scope: 'region:nc-east-1', onset, terms: ['NC-EAST-1', 'internal network', 'congest', 'automated', 'scaling'] });
}
