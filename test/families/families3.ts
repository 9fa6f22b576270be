// Family 12: no change caused the incident (provider outage, traffic surge, expired certificate,
// full disk, operator action). Label trigger: null. Each has innocent deploys shortly before onset.
import { addDecoys, type Outcome } from './common.js';
import { hhmm, iso, MIN, type Scene } from './scene.js';
import { PROVIDER_STEMS, PROVIDER_TAILS, TABLE_NOUNS } from './vocab.js';

function decoysNearOnset(s: Scene): void {
  const r = s.rng;
  addDecoys(s, r.int(1, 4), s.t0 - r.int(3, 25) * MIN);
}

export function providerOutage(s: Scene): Outcome {
  const r = s.rng;
  const provider = r.pick(PROVIDER_STEMS) + r.pick(PROVIDER_TAILS);
  const host = `api.${provider.toLowerCase()}.${r.pick(['com', 'io', 'net'])}`;
  const path = `/v${r.int(1, 3)}/${r.pick(['charges', 'labels', 'messages', 'lookups', 'verifications', 'quotes'])}`;
  const code = r.pick([502, 503, 504]);
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), () => r.pick([
    `${provider} API error: ${code} ${code === 503 ? 'Service Unavailable' : code === 502 ? 'Bad Gateway' : 'Gateway Timeout'} (POST https://${host}${path})`,
    `upstream ${host} returned ${code} after ${r.int(100, 3000)}ms`,
    `${provider}Error: request to ${host}${path} failed with status ${code}`,
  ]));
  if (r.chance(0.8)) s.say(s.ackMs + r.int(60, 600) * 1000, s.responder(), r.pick([`${provider} status page: "Investigating elevated error rates on ${path}"`, `${provider} confirmed an incident on their side`, `all failing calls go to ${host}`]));
  s.say(s.recoveryMs + r.int(30, 300) * 1000, s.responder(), r.pick([`${provider} marked their incident resolved`, `${host} is answering again, error rate back to baseline`]));
  decoysNearOnset(s);
  return { trigger: null, terms: [provider, 'upstream', String(code)] };
}

export function trafficSurge(s: Scene): Outcome {
  const r = s.rng;
  const factor = r.int(4, 9);
  s.trafficShape = (ms) => (ms >= s.t0 && ms < s.recoveryMs ? factor : 1);
  const cause = r.pick([
    { say: `the ${r.pick(['spring sale', 'product launch', 'newsletter', 'push campaign'])} went out at ${hhmm(s.t0 - r.int(0, 2) * MIN)}, traffic is ${factor}x normal`, term: 'traffic' },
    { say: `looks like a scraper from ASN ${r.int(10000, 65000)} hammering /v1/${r.pick(s.dom.resources)}, traffic is ${factor}x normal`, term: 'traffic' },
  ]);
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), () => r.pick(['503 Service Unavailable: upstream overloaded', `request queue wait ${r.int(2000, 9000)}ms exceeded, shedding load`, 'worker pool saturated, rejecting request']));
  s.say(s.ackMs + r.int(60, 500) * 1000, s.responder(), cause.say);
  s.say(s.recoveryMs - r.int(30, 120) * 1000, s.responder(), r.pick([`scaled ${s.service} out to ${r.int(12, 40)} replicas`, 'blocked the abusive client at the edge, traffic back to normal']));
  decoysNearOnset(s);
  return { trigger: null, terms: [cause.term, 'surge', 'load'] };
}

export function certExpiry(s: Scene): Outcome {
  const r = s.rng;
  const host = `${r.pick(['api', 'auth', 'partner', 'mtls', 'gateway'])}.${r.pick(['internal.', ''])}${s.domain}`;
  const notAfter = new Date(s.t0 - r.int(0, 20) * 1000);
  const errorText = {
    go: () => `x509: certificate has expired or is not yet valid: current time ${iso(s.t0 + r.int(0, 600) * 1000).slice(0, 19)}Z is after ${notAfter.toISOString().slice(0, 19)}Z (host ${host})`,
    ts: () => `Error: certificate has expired (code CERT_HAS_EXPIRED) connecting to ${host}:443`,
    py: () => `ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006) host=${host}`,
    java: () => `javax.net.ssl.SSLHandshakeException: PKIX path validation failed: java.security.cert.CertificateExpiredException: NotAfter: ${notAfter.toUTCString()} (${host})`,
  }[s.lang];
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), errorText);
  if (r.chance(0.8)) s.say(s.ackMs + r.int(60, 600) * 1000, s.responder(), r.pick([`the cert for ${host} expired at ${hhmm(notAfter.getTime())}, the renewal job has been failing for weeks`, `openssl s_client says notAfter=${notAfter.toUTCString()} for ${host}`]));
  s.say(s.recoveryMs - r.int(30, 120) * 1000, s.responder(), `renewed and reloaded the certificate for ${host}`);
  decoysNearOnset(s);
  return { trigger: null, terms: ['expired', 'certificate', host] };
}

export function diskFull(s: Scene): Outcome {
  const r = s.rng;
  const host = r.pick(s.hosts);
  const start = s.t0 - r.int(60, 100) * MIN;
  s.addSeries({ metric: 'system.disk.in_use', scope: `host:${host},device:/dev/nvme0n1p1`, interval: 60, value: (ms) => {
    if (ms >= s.recoveryMs) return 0.41;
    if (ms >= s.t0) return 1;
    if (ms < start) return 0.62;
    return Number((0.62 + 0.38 * (ms - start) / (s.t0 - start)).toFixed(4));
  } });
  const path = `/var/log/${s.service}/${r.pick(['app.log', 'access.log', 'debug.log'])}`;
  const text = { ts: `Error: ENOSPC: no space left on device, write '${path}'`, py: `OSError: [Errno 28] No space left on device: '${path}'`, go: `write ${path}: no space left on device`, java: `java.io.IOException: No space left on device (${path})` }[s.lang];
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), () => text, { hosts: [host] });
  if (r.chance(0.8)) s.say(s.ackMs + r.int(60, 600) * 1000, s.responder(), r.pick([`${host} root disk is at 100%`, `log rotation on ${host} has been broken, ${path} is ${r.int(40, 200)}G`]));
  s.say(s.recoveryMs - r.int(30, 120) * 1000, s.responder(), `truncated ${path} on ${host} and fixed logrotate`);
  decoysNearOnset(s);
  return { trigger: null, terms: ['disk', 'no space left', host] };
}

export function operatorAction(s: Scene): Outcome {
  const r = s.rng;
  const op = s.responder();
  const when = s.t0 - r.int(10, 90) * 1000;
  const action = r.pick([
    { cmd: `kubectl scale deploy/${s.service} --replicas=1`, effect: '503 no healthy upstream: all replicas busy', fix: `scaled ${s.service} back to ${r.int(6, 20)} replicas`, term: 'replicas' },
    { cmd: `redis-cli -h ${s.service}-cache FLUSHALL`, effect: `cache miss storm: timed out loading ${r.pick(s.dom.nouns)} from the database`, fix: 'cache warmed back up, latency normal', term: 'FLUSHALL' },
    { cmd: `DELETE FROM ${r.pick(TABLE_NOUNS)} WHERE created_at < now() - interval '30 days'`, effect: 'canceling statement due to statement timeout (table locked by a manual DELETE)', fix: 'cancelled the manual DELETE, locks released', term: 'manual' },
  ]);
  s.errors(s.t0, s.recoveryMs, r.int(3, 8), () => action.effect);
  s.say(s.ackMs + r.int(60, 400) * 1000, op, r.pick([`oh no. I ran \`${action.cmd}\` at ${hhmm(when)}, I thought my context was ${s.nonProd()}`, `I ran \`${action.cmd}\` by hand at ${hhmm(when)} during maintenance, that is probably it`]));
  // audit trails name who ran it in a key=value field; no rng draw here, so the rest of the incident is unchanged
  const audit = [`audit: ${action.cmd}`, `user=${op.login} tty=pts/${Math.floor(when / 1000) % 9} cwd=/opt/ops cmd="${action.cmd}"`, `sudo: login=${op.login} ran "${action.cmd}"`][Math.floor(when / 1000) % 3]!;
  if (r.chance(0.5)) s.log(when, 'info', audit, { service: 'ops-audit' });
  s.say(s.recoveryMs - r.int(30, 120) * 1000, s.responder(), action.fix);
  decoysNearOnset(s);
  return { trigger: null, terms: [action.term, 'manual', 'operator'] };
}
