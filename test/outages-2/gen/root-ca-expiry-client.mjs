// After the Let's Encrypt "DST Root CA X3" expiry, 2021-09-30 14:01:15 UTC: a client on an old
// OpenSSL 1.0.2 image still trusted the expired cross-signing root and built its chain to it, so
// every call to partners served by Let's Encrypt certificates failed verification. Nothing changed:
// a root certificate in the client's trust store reached its notAfter.
import { Incident, ms, iso, isoS, SEC } from '../../outages/gen/lib.mjs';

export const slug = 'root-ca-expiry-client';
export const source = 'Let\'s Encrypt, "DST Root CA X3 Expiration (September 2021)" (letsencrypt.org/docs/dst-root-ca-x3-expiration-september-2021) and the community incident reports of 2021-09-30 (OpenSSL 1.0.2 clients)';

export function build() {
  const I = new Incident({ seed: 210930, company: 'Parcelnest', domain: 'parcelnest.com' });
  I.person('oncall', 'Tariq Mansour', { login: 'tmansour' });
  I.person('ic', 'Helena Kowalczyk', { login: 'hkowalczyk' });
  I.person('dev', 'Rui Carvalho', { login: 'rcarvalho-dev' });
  I.person('plat', 'Ama Boateng', { login: 'aboateng' });
  I.person('partner', 'Bjorn Solberg', { login: 'bsolberg' });

  const from = ms('2021-09-30T10:00:00Z');
  const to = ms('2021-09-30T18:00:00Z');
  const expiry = ms('2021-09-30T14:01:15Z');
  const page = ms('2021-09-30T14:06:12Z');
  const ack = ms('2021-09-30T14:07:40Z');
  const resolve = ms('2021-09-30T16:41:05Z');

  // ---- GitHub: a carrier-sync deploy minutes before the expiry (innocent), the trust-store fix after
  const CS = 'parcelnest/carrier-sync';
  const retry = I.commit(CS, { message: 'Retry partner 429s with jittered backoff (max 3)', author: 'dev', at: ms('2021-09-29T16:40:00Z'), files: [
    { filename: 'app/clients/partner_client.rb', patch: "@@ -22,7 +22,9 @@ class PartnerClient\n   def post(path, body)\n-    with_retries(max: 1) { http.post(path, body.to_json, headers) }\n+    with_retries(max: 3, on: [Net::HTTPTooManyRequests], backoff: ->(n) { (2**n) + rand }) do\n+      http.post(path, body.to_json, headers)\n+    end\n   end" },
  ] });
  const csDeploy = I.deploy(CS, { env: 'production', ref: 'cs-2021.09.30.1', description: 'carrier-sync cs-2021.09.30.1', createdAt: ms('2021-09-30T13:44:00Z'), finishedAt: ms('2021-09-30T13:52:31Z') });
  // the rollback tried during the incident (previous release, same old image)
  I.deploy(CS, { env: 'production', ref: 'cs-2021.09.29.3', description: 'rollback to cs-2021.09.29.3', createdAt: ms('2021-09-30T14:26:00Z'), finishedAt: ms('2021-09-30T14:37:52Z'), sha: I.repo(CS).commits[0].parents[0].sha, commits: [] });
  const fix = I.commit(CS, { message: 'Base image: drop expired DST Root CA X3 from the trust store\n\nOpenSSL 1.0.2 on jessie builds the chain to DST Root CA X3 (expired 2021-09-30 14:01:15 UTC)\ninstead of stopping at ISRG Root X1. Blacklist it and refresh ca-certificates.', author: 'plat', at: ms('2021-09-30T15:48:00Z'), files: [
    { filename: 'Dockerfile', patch: "@@ -3,6 +3,9 @@ FROM parcelnest/ruby:2.4-jessie\n RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates\n+RUN sed -i 's#^mozilla/DST_Root_CA_X3.crt#!mozilla/DST_Root_CA_X3.crt#' /etc/ca-certificates.conf \\\n+ && update-ca-certificates --fresh\n WORKDIR /app" },
  ] });
  const fixDeploy = I.deploy(CS, { env: 'production', ref: 'cs-2021.09.30.2', description: 'carrier-sync cs-2021.09.30.2 (trust store fix)', createdAt: ms('2021-09-30T16:12:00Z'), finishedAt: ms('2021-09-30T16:24:10Z'), commits: [retry, fix] });
  I.commit('parcelnest/web-storefront', { message: 'Checkout: show carrier ETA range', author: 'dev', at: ms('2021-09-30T09:10:00Z'), files: [
    { filename: 'src/checkout/Eta.tsx', patch: "@@ -8,5 +8,5 @@ export function Eta({ quote }: Props) {\n-  return <span>{formatDate(quote.eta)}</span>;\n+  return <span>{formatDate(quote.etaEarliest)} – {formatDate(quote.etaLatest)}</span>;\n }" },
  ] });
  I.deploy('parcelnest/web-storefront', { env: 'production', ref: 'web-7731', description: 'web-storefront web-7731', createdAt: ms('2021-09-30T12:05:00Z'), finishedAt: ms('2021-09-30T12:11:02Z') });

  // ---- change events: our own inbound certificate renewed 3 minutes before the expiry (innocent)
  I.changeEvent({ at: ms('2021-09-30T13:58:20Z'), summary: 'Certificate renewed: api.parcelnest.com (parcelnest-api-tls)', integration: 'cert-manager', services: ['api-gateway'], custom_details: { secret: 'parcelnest-api-tls', issuer: 'letsencrypt-prod', not_after: { from: '2021-10-29T13:58:00Z', to: '2021-12-29T12:58:19Z' } } });

  // ---- Datadog
  const broken = (t) => t >= expiry && t < fixDeploy.finishedAt;
  I.series({ metric: 'carrier_sync.partner_calls.errors', expression: 'sum:carrier_sync.partner_calls.errors{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'request', fn: (t) => broken(t) ? I.noise(2150, 0.06) : I.noise(6, 0.5) });
  I.series({ metric: 'carrier_sync.partner_calls', expression: 'sum:carrier_sync.partner_calls{env:production}.as_count()', scope: 'env:production', interval: 30, from, to, unit: 'request', fn: (t) => I.noise(broken(t) ? 2400 : 1800, 0.05) });
  I.series({ metric: 'webhooks.deliveries.failed', expression: 'sum:webhooks.deliveries.failed{env:production}.as_count()', scope: 'env:production', interval: 60, from, to, unit: 'delivery', fn: (t) => broken(t) ? I.noise(310, 0.1) : I.noise(12, 0.4) });
  I.series({ metric: 'api_gateway.tls.handshake_errors', expression: 'sum:api_gateway.tls.handshake_errors{env:production}.as_count()', scope: 'env:production', interval: 60, from, to, unit: 'handshake', fn: () => I.noise(40, 0.3) });
  I.ddEvent({ at: csDeploy.finishedAt, title: 'Deployed carrier-sync cs-2021.09.30.1', source_type_name: 'deploy', tags: ['service:carrier-sync', 'env:production', 'repo:parcelnest/carrier-sync'] });
  I.ddEvent({ at: fixDeploy.finishedAt, title: 'Deployed carrier-sync cs-2021.09.30.2', source_type_name: 'deploy', tags: ['service:carrier-sync', 'env:production', 'repo:parcelnest/carrier-sync'] });
  I.ddEvent({ at: ms('2021-09-30T14:05:50Z'), title: '[P2] Triggered: carrier-sync partner call error rate > 10%', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:carrier-sync'] });

  // ---- logs
  const pods = ['carrier-sync-7d9f6c-2xk4q', 'carrier-sync-7d9f6c-9hq1w', 'carrier-sync-7d9f6c-tz8mn'];
  const partners = ['api.freightline.example', 'tracking.hauloo.example', 'hooks.shipcorp.example'];
  const key = I.secret('fl_live_9KqT2vX8mWz4RbN7cJ1pLs0d');
  I.logsBetween(from, to, 200, 'carrier-sync', 'info', pods, () => `POST https://${I.pick(partners)}/v2/shipments 201 ${I.int(80, 600)}ms`);
  I.logsBetween(expiry, fixDeploy.finishedAt, 200, 'carrier-sync', 'error', pods, () => `OpenSSL::SSL::SSLError: SSL_connect returned=1 errno=0 state=error: certificate verify failed (certificate has expired) host=${I.pick(partners)} chain=[CN=${I.pick(partners)}, CN=R3, CN=ISRG Root X1, CN=DST Root CA X3 (notAfter=Sep 30 14:01:15 2021 GMT)]\n  /usr/lib/ruby/2.4.0/net/protocol.rb:44:in \`connect_nonblock'\n  /usr/lib/ruby/2.4.0/net/http.rb:938:in \`connect'\n  /app/app/clients/partner_client.rb:24:in \`post'\n  /app/app/jobs/push_shipment_job.rb:17:in \`perform'`);
  I.log(expiry + 40 * SEC, 'carrier-sync', 'error', pods[0], `push_shipment_job failed url=https://api.freightline.example/v2/shipments?api_key=${key} error=certificate verify failed (certificate has expired)`);
  I.logsBetween(expiry, fixDeploy.finishedAt, 60, 'webhooks', 'error', ['webhooks-1', 'webhooks-2'], () => `delivery failed endpoint=https://${I.pick(['erp.customer-a.example', 'hooks.customer-b.example'])}/parcelnest: SSL_connect ... certificate verify failed (certificate has expired)`);
  I.log(fixDeploy.finishedAt + 20 * SEC, 'carrier-sync', 'info', pods[1], 'boot: trust store has 128 roots; DST_Root_CA_X3 disabled; openssl 1.0.2u');

  // ---- PagerDuty
  I.pdTrigger(page, '[P2] carrier-sync partner call error rate > 10%', 'carrier-sync');
  I.pdNotify(page + 700, 'oncall');
  I.pdAck(ack, 'oncall');
  I.pdNote(ms('2021-09-30T14:40:00Z'), 'ic', 'Outbound TLS verify fails on every Let\'s Encrypt-served partner since 14:01:15, the DST Root CA X3 expiry. Old OpenSSL 1.0.2 in our jessie image picks the expired root.');
  I.pdNote(ms('2021-09-30T16:30:00Z'), 'ic', 'cs-2021.09.30.2 (DST root disabled in trust store) live at 16:24, errors back to baseline.');
  I.pdResolve(resolve, 'ic');

  // ---- Slack
  const at = (hms) => ms(`2021-09-30T${hms}Z`);
  I.bot(at('14:06:14'), 'PagerDuty', ':rotating_light: *Triggered* #3120 [P2] carrier-sync partner call error rate > 10%');
  I.say(at('14:08:10'), 'oncall', 'ack. carrier-sync failing almost every partner call since 14:01. "certificate verify failed (certificate has expired)"');
  const th = I.say(at('14:09:00'), 'dev', 'cs-2021.09.30.1 went out at 13:52, the 429 retry change. want me to roll it back?');
  I.say(at('14:10:20'), 'oncall', 'retries would not make TLS verification fail. and it ran fine for 9 minutes', { thread: th });
  I.say(at('14:11:05'), 'plat', 'cert-manager renewed api.parcelnest.com at 13:58. that is our inbound cert though, these are outbound calls');
  I.say(at('14:12:40'), 'oncall', 'gateway handshake errors are flat, inbound is fine. it is only us calling out');
  I.say(at('14:14:30'), 'ic', 'IC. did freightline change their cert? they rotated something this week');
  I.say(at('14:17:15'), 'partner', 'freightline rotated their leaf on the 28th, we have been calling them fine for two days. and hauloo + shipcorp fail too');
  I.say(at('14:20:00'), 'plat', 'all three are Let\'s Encrypt. the error chain ends at DST Root CA X3 notAfter=Sep 30 14:01:15 2021 GMT. that is today, 14:01:15');
  I.say(at('14:22:30'), 'plat', 'our image is jessie with openssl 1.0.2: it prefers the chain to the expired DST root over ISRG Root X1. newer openssl would stop at ISRG');
  I.say(at('14:24:00'), 'ic', 'so nothing we shipped. fix = trust store. can we disable DST_Root_CA_X3 in ca-certificates.conf and rebuild?');
  I.say(at('14:25:10'), 'dev', 'rolling back cs-2021.09.30.1 anyway to rule it out');
  I.say(at('14:38:40'), 'dev', 'rollback done, errors unchanged. as expected');
  I.say(at('15:49:30'), 'plat', 'PR up: blacklist DST_Root_CA_X3 + update-ca-certificates --fresh. building cs-2021.09.30.2');
  I.say(at('16:25:00'), 'plat', 'cs-2021.09.30.2 live 16:24, partner calls succeeding again');
  I.say(at('16:40:10'), 'ic', 'resolving. follow-ups: move off jessie/openssl 1.0.2, inventory other images with the old trust store, replay failed webhooks');
  I.bot(at('16:41:07'), 'PagerDuty', ':white_check_mark: *Resolved* #3120 [P2] carrier-sync partner call error rate > 10%');

  const incident = { id: 'PPN3120', source: 'pagerduty', title: '[P2] carrier-sync partner call error rate > 10%', service: 'carrier-sync', severity: 'SEV2', status: 'resolved', urgency: 'high', incident_number: 3120, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://parcelnest.pagerduty.com/incidents/PPN3120' };
  const bundle = I.bundle({ incident, channel: { id: 'C02CERTEXP', name: 'inc-partner-tls' } });
  const expected = {
    family: 'expiry',
    trigger: null,
    spike_onset: { metric: 'carrier_sync.partner_calls.errors', at: iso(expiry), tolerance_ms: 30000 },
    root_cause_terms: ['DST Root CA X3', 'expired', 'trust store', 'OpenSSL 1.0.2', 'root certificate'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  return { bundle, expected };
}
