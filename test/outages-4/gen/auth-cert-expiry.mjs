// After Microsoft Teams, 2020-02-03: an authentication certificate expired; clients could not get or
// refresh tokens and Teams was unavailable for about three hours until a renewed certificate was
// deployed. Nothing was changed: time passed the certificate's notAfter.
import { Incident, ms, MIN, SEC } from '../../outages/gen/lib.mjs';
import { finish } from './kit.js';

export const slug = 'auth-cert-expiry';
export const source = 'Microsoft 365 Status (@MSFT365Status), Teams incident TM202711 of 2020-02-03 ("an authentication certificate has expired"), and the press coverage of the same day (The Verge, ZDNet)';

export function build() {
  const I = new Incident({ seed: 20200203, company: 'Huddlepoint', domain: 'huddlepoint.com' });
  I.person('oncall', 'Noah Bergström', { login: 'nbergstrom' });
  I.person('ic', 'Olivia Mensah-Boateng', { login: 'omensah', slack: 'olivia.mensah', email: 'olivia.mensah@huddlepoint.com' });
  I.person('idp', 'Farid Haddad', { login: 'fhaddad' });
  I.person('client', 'Julia Kaczmarek', { login: 'jkaczmarek' });
  I.person('edge', 'Tom Brennan', { login: 'tbrennan' });
  const at = (t) => ms(`2020-02-03T${t}Z`);
  const from = at('11:00:00'), to = at('19:00:00');
  const expiry = at('14:30:00'), onset = at('14:30:20'), page = at('14:33:40'), ack = at('14:34:30'), newCert = at('16:58:00'), resolve = at('17:41:10');

  I.commit('huddlepoint/chat-service', { message: 'Channels: paginate member list at 500', author: 'client', at: at('09:00:00'), files: [{ filename: 'src/channels/members.ts', patch: '@@ -8,1 +8,1 @@\n-const PAGE = 2000;\n+const PAGE = 500;' }] });
  I.deploy('huddlepoint/chat-service', { env: 'production', ref: 'cs-4471', description: 'chat-service 4471', createdAt: at('12:40:00'), finishedAt: at('12:55:31'), creator: 'jkaczmarek' });
  I.changeEvent({ at: at('14:22:30'), summary: 'Edge WAF: rate limit for /api/v1/presence raised 200 -> 400 rps per IP', integration: 'edge-console', services: ['edge'], custom_details: { path: '/api/v1/presence', from: 200, to: 400 } });
  I.changeEvent({ at: newCert, summary: 'Token service signing/TLS certificate renewed and deployed (emergency)', integration: 'cert-manager', services: ['token-service'], custom_details: { subject: 'CN=auth.huddlepoint.com', notAfter: '2022-02-03T00:00:00Z' } });

  const fail = (t) => (t < onset ? 0 : t < newCert ? 1 : Math.max(0, 1 - (t - newCert) / (30 * MIN)));
  I.series({ metric: 'token_service.requests.errors', expression: 'sum:token_service.requests.errors{*}.as_count()', scope: '*', interval: 20, from, to, unit: 'error', fn: (t) => I.noise(15, 0.4) + fail(t) * I.noise(52000, 0.06) });
  I.series({ metric: 'chat.active_sessions', expression: 'sum:chat.active_sessions{*}', scope: '*', interval: 60, from, to, fn: (t) => I.noise(2_100_000, 0.02) * (1 - 0.85 * fail(t - 10 * MIN)) });
  I.ddEvent({ at: at('12:55:31'), title: 'chat-service 4471 deployed', source_type_name: 'deploy', tags: ['service:chat-service'] });
  I.ddEvent({ at: at('14:30:00'), title: 'cert-monitor: CN=auth.huddlepoint.com expired', text: 'notAfter=2020-02-03T14:30:00Z. Renewal ticket SEC-2210 open since 2020-01-06, unassigned.', alert_type: 'warning', source_type_name: 'cert-monitor', tags: ['service:token-service'] });

  const ts = ['tok-weu-02', 'tok-eus-07', 'tok-sea-01'];
  I.logsBetween(onset, newCert + 10 * MIN, 110, 'token-service', 'error', ts, () => I.pick([
    'token issue failed: signing certificate CN=auth.huddlepoint.com not valid after 2020-02-03T14:30:00Z (X509: certificate has expired)',
    'refresh rejected: client TLS handshake failed: certificate expired (CN=auth.huddlepoint.com)']));
  I.logsBetween(onset + 60 * SEC, newCert, 60, 'chat-service', 'warn', ['cs-weu-31', 'cs-eus-12'], () => '401 token refresh failed; client will retry in 30s');
  I.logsBetween(from, to, 60, 'chat-service', 'info', ['cs-weu-31', 'cs-eus-12'], () => `GET /api/v1/channels 200 ${I.int(20, 120)}ms`);
  I.log(at('13:10:00'), 'token-service', 'info', ts[0], `HSM session opened pin=${I.secret('HSM-pin-48213-Hdp')} slot=2`);

  I.say(at('14:35:00'), 'oncall', 'ack. token issue and refresh failing everywhere, users being signed out');
  const th = I.say(at('14:35:40'), 'client', 'chat-service 4471 shipped 12:55, member paging. related?');
  I.say(at('14:36:30'), 'oncall', 'the errors are in token-service, which did not deploy, and chat ran fine for 1.5h', { thread: th });
  I.say(at('14:37:10'), 'edge', 'I raised the presence rate limit at 14:22. could the extra presence polling overload auth?');
  I.say(at('14:39:00'), 'idp', 'no: "certificate has expired", notAfter 14:30:00 today. cert-monitor fired at 14:30 too. renewal ticket SEC-2210 has been open since January');
  I.say(at('14:42:00'), 'ic', 'IC. emergency renewal of CN=auth.huddlepoint.com, get it through the HSM ceremony, deploy to all token-service regions');
  I.say(at('17:00:00'), 'idp', 'renewed cert deployed 16:58, tokens issuing again, clients recovering on their retry');
  I.say(at('17:40:00'), 'ic', 'sessions back to normal. resolving. follow-ups: automatic renewal, page (not warn) 30 days before expiry');

  return finish(I, { page, ack, resolve, monitor: '[P1] token-service errors > 5%', service: 'token-service', number: 20203, opsgenie: true, ogId: 'b7e04d91-2c5a-4f3e-8d61-90a4f2c3e5b8', oncall: 'oncall', ic: 'ic',
    notes: [[at('14:45:00'), 'Auth certificate CN=auth.huddlepoint.com expired at 14:30:00; token issue/refresh failing. Emergency renewal in progress.']],
    channel: { id: 'C0HPAUTH20', name: 'inc-sign-in' }, family: 'expiry', trigger: null,
    metric: 'token_service.requests.errors', onset, terms: ['certificate', 'expired', 'notAfter', 'auth.huddlepoint.com', 'renew'] });
}
