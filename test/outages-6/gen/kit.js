// Shared tail for this set's generators: paging, incident header and label (not an outage itself, so build.mjs skips it).
import { iso, isoS } from '../../outages/gen/lib.mjs';

export function finish(I, o) {
  const { page, ack, resolve, monitor, service, number, oncall, ic } = o;
  if (o.opsgenie) {
    I.og(page, `Alert created via Datadog integration: ${monitor}`);
    I.og(page + 400, `Alert notified ${I.p(oncall).realName} via sms`);
    I.og(ack, `Alert acknowledged by ${I.p(oncall).realName}`, 'alertAction', I.p(oncall).email);
    for (const [t, text] of o.notes ?? []) I.og(t, `Note added: ${text}`, 'note', I.p(ic).email);
    I.og(resolve, `Alert closed by ${I.p(ic).realName}`, 'alertAction', I.p(ic).email);
  } else {
    I.pdTrigger(page, monitor, service);
    I.pdNotify(page + 500, oncall, 'phone call');
    I.pdAck(ack, oncall);
    for (const [t, text] of o.notes ?? []) I.pdNote(t, ic, text);
    I.pdResolve(resolve, ic);
  }
  I.bot(page + 3000, o.opsgenie ? 'Opsgenie' : 'PagerDuty', `:rotating_light: *Triggered* #${number} ${monitor}`);
  I.bot(resolve + 3000, o.opsgenie ? 'Opsgenie' : 'PagerDuty', `:white_check_mark: *Resolved* #${number} ${monitor}`);
  const incident = o.opsgenie
    ? { id: o.ogId, source: 'opsgenie', title: monitor, service, severity: 'P1', status: 'closed', created_at: iso(page), acknowledged_at: iso(ack), resolved_at: iso(resolve), url: `https://${I.pdSubdomain}.app.opsgenie.com/alert/detail/${o.ogId}/details` }
    : { id: `Q${number}X${I.alnum(6)}`, source: 'pagerduty', title: monitor, service, severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: number, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: `https://${I.pdSubdomain}.pagerduty.com/incidents/Q${number}` };
  const bundle = I.bundle({ incident, channel: o.channel, opsgenie: !!o.opsgenie });
  const tl = [{ at: iso(page), kind: 'page' }, { at: iso(ack), kind: 'ack' }, { at: iso(resolve), kind: 'resolve' }];
  if (o.deployAt) tl.splice(0, 0, { at: iso(o.deployAt), kind: 'deploy' });
  const expected = { family: o.family, trigger: o.trigger };
  if (o.latent) expected.latent_defect = o.latent;
  expected.spike_onset = { metric: o.metric, ...(o.scope ? { scope: o.scope } : {}), at: iso(o.onset), tolerance_ms: 30000 };
  expected.root_cause_terms = o.terms;
  expected.timeline_must_include = tl;
  expected.must_not_appear = I.mustNotAppear(bundle);
  // logins that appear unquoted (audit lines, URLs) are as identifying as quoted ones
  const raw = JSON.stringify(bundle);
  for (const p of I.people.values()) if (!expected.must_not_appear.includes(p.login) && new RegExp(`\\b${p.login}\\b`).test(raw)) expected.must_not_appear.push(p.login);
  return { bundle, expected };
}
