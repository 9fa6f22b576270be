// After CrowdStrike, 2024-07-19: a Rapid Response Content update (channel file 291) exercises an
// out-of-bounds read in the sensor's content interpreter that shipped months earlier (21 template
// fields defined, 20 inputs supplied). Windows hosts crash; reverting the channel file stops new crashes.
import { Incident, ms, iso, isoS, HOUR, SEC } from './lib.mjs';

export const slug = 'sensor-content-oob-read';
export const source = 'CrowdStrike, "Preliminary Post Incident Review" (2024-07-24) and "Channel File 291 Incident: Root Cause Analysis" (2024-08-06)';

export function build() {
  const I = new Incident({ seed: 240719, company: 'Halberd', domain: 'halberdsec.com' });
  I.person('oncall', 'Deepa Raghunathan', { login: 'draghunathan' });
  I.person('ic', 'Connor Whitfield', { login: 'cwhitfield-hb' });
  I.person('content', 'Yara Haddad', { login: 'yhaddad' });
  I.person('sensor', 'Mikhail Sorokin', { login: 'msorokin-dev' });
  I.person('sensor2', 'Beatriz Campos', { login: 'bcampos' });
  I.person('cs', 'Femi Adeyemi', { login: 'fadeyemi' });
  I.person('cloud', 'Ingrid Holm', { login: 'iholm' });

  const from = ms('2024-07-19T01:00:00Z');
  const to = ms('2024-07-19T12:30:00Z');
  const push = ms('2024-07-19T04:09:07Z');
  const onset = ms('2024-07-19T04:09:30Z');
  const revertAt = ms('2024-07-19T05:27:12Z');
  const page = ms('2024-07-19T04:16:52Z');
  const ack = ms('2024-07-19T04:18:31Z');
  const resolve = ms('2024-07-19T11:58:06Z');

  // ---- GitHub: sensor repo; the latent defect shipped in 7.11 (February), a decoy 7.16 hotfix the day before
  const SENSOR = 'halberd/warden-sensor';
  I.commit(SENSOR, { message: 'ETW: drop duplicate image-load events from WoW64 processes', author: 'sensor2', at: ms('2024-02-12T10:02:00Z'), files: [
    { filename: 'src/sensor/etw/image_load.cpp', patch: '@@ -141,6 +141,9 @@ void ImageLoadConsumer::OnEvent(const EVENT_RECORD& rec) {\n   auto info = ParseImageLoad(rec);\n+  if (info.is_wow64 && recent_.Contains(info.image_base)) {\n+    return;  // WoW64 emits the same load twice\n+  }\n   Emit(info);' },
  ] });
  const latent = I.commit(SENSOR, { message: 'Content interpreter: add InterProcessCommunication template type\n\nNew template type for detecting named-pipe based C2 (IPC). Template defines 21 input\nfields; criteria on a field are evaluated against ctx.inputs by index. Field 21 is\nreserved and wildcarded in all initial template instances.', author: 'sensor', at: ms('2024-02-14T15:44:00Z'), files: [
    { filename: 'src/content/templates/ipc_template.cpp', status: 'added', patch: '@@ -0,0 +1,24 @@\n+#include "content/templates/ipc_template.h"\n+\n+namespace warden::content {\n+\n+// Field layout of the InterProcessCommunication template type.\n+static constexpr size_t kIpcFieldCount = 21;\n+\n+TemplateType MakeIpcTemplateType() {\n+  TemplateType t{"InterProcessCommunication"};\n+  t.field_count = kIpcFieldCount;\n+  t.fields = {\n+    "pipe_name", "pipe_server_image", "pipe_client_image", "pipe_mode",\n+    // ... 16 more\n+    "reserved_20",\n+  };\n+  return t;\n+}\n+\n+}  // namespace warden::content' },
    { filename: 'src/sensor/hooks/ipc_hook.cpp', status: 'added', patch: '@@ -0,0 +1,18 @@\n+#include "sensor/hooks/ipc_hook.h"\n+\n+void IpcHook::OnNamedPipeConnect(const PipeEvent& ev) {\n+  InterpreterContext ctx;\n+  ctx.template_type = "InterProcessCommunication";\n+  // 20 inputs: the sensor has nothing to supply for reserved_20 yet\n+  ctx.inputs = CollectPipeInputs(ev);  // returns 20 values\n+  interpreter_->MatchTemplateInstances(ctx);\n+}' },
    { filename: 'src/content/interpreter/eval.cpp', patch: '@@ -398,9 +398,14 @@ bool ContentInterpreter::EvalCriterion(const InterpreterContext& ctx,\n                                        const Criterion& crit) {\n-  if (crit.is_wildcard) return true;\n-  return Match(crit, ctx.inputs.at(crit.field_index));\n+  if (crit.is_wildcard) return true;\n+  // hot path: avoid at() bounds check, field_index validated by content validator\n+  const InputValue* v = &ctx.inputs.data()[crit.field_index];\n+  return Match(crit, *v);\n }' },
  ] });
  const s711 = I.deploy(SENSOR, { env: 'production', ref: 'v7.11.18110', description: 'Sensor 7.11.18110 GA (Windows)', createdAt: ms('2024-02-28T14:00:00Z'), finishedAt: ms('2024-02-28T16:22:40Z') });
  I.commit(SENSOR, { message: 'DNS telemetry: shrink per-process request buffer from 512 to 256 entries', author: 'sensor2', at: ms('2024-07-16T09:30:00Z'), files: [
    { filename: 'src/sensor/dns/request_buffer.h', patch: '@@ -12,7 +12,7 @@ namespace warden::dns {\n-constexpr size_t kMaxPendingPerProcess = 512;\n+constexpr size_t kMaxPendingPerProcess = 256;\n }' },
  ] });
  const s716 = I.commit(SENSOR, { message: 'Fix handle leak in USB device-control policy refresh', author: 'sensor', at: ms('2024-07-17T13:10:00Z'), files: [
    { filename: 'src/sensor/device_control/policy.cpp', patch: '@@ -77,6 +77,7 @@ void DeviceControlPolicy::Refresh() {\n   HANDLE h = OpenPolicyKey();\n   if (!h) return;\n   Load(h);\n+  CloseHandle(h);\n }' },
  ] });
  I.deploy(SENSOR, { env: 'production', ref: 'v7.16.18605', description: 'Sensor 7.16.18605 hotfix (Windows), N-1 policy customers', createdAt: ms('2024-07-18T15:00:00Z'), finishedAt: ms('2024-07-18T19:41:09Z') });
  I.commit('halberd/falconer-console', { message: 'Host management: show sensor channel file versions in host details', author: 'cloud', at: ms('2024-07-18T22:10:00Z'), files: [
    { filename: 'web/src/hosts/HostDetails.tsx', patch: '@@ -55,6 +55,10 @@ export function HostDetails({ host }: Props) {\n       <Row label="Sensor version">{host.sensorVersion}</Row>\n+      <Row label="Channel files">\n+        {host.channelFiles.map((c) => `${c.channel}:${c.version}`).join(", ")}\n+      </Row>' },
  ] });
  I.deploy('halberd/falconer-console', { env: 'prod-us1', ref: 'console-2024.07.19.1', description: 'console-2024.07.19.1', createdAt: ms('2024-07-19T03:50:00Z'), finishedAt: ms('2024-07-19T04:02:31Z') });

  // ---- change events from the content pipeline
  I.changeEvent({ at: ms('2024-07-19T01:31:40Z'), summary: 'Rapid Response Content published: channel 284 (macOS) C-00000284-00000000-00000117', integration: 'Content Configuration System', services: ['warden-sensor'], custom_details: { channel: '284', platform: 'macos', file: 'C-00000284-00000000-00000117', template_type: 'ProcessLineage', instances_added: 3, content_validator: 'pass' } });
  I.changeEvent({ at: ms('2024-07-19T03:58:15Z'), summary: 'Rapid Response Content published: channel 302 (Linux) C-00000302-00000000-00000044', integration: 'Content Configuration System', services: ['warden-sensor'], custom_details: { channel: '302', platform: 'linux', file: 'C-00000302-00000000-00000044', template_type: 'NetworkConnect', instances_added: 1, content_validator: 'pass' } });
  const ce291 = I.changeEvent({ at: push, summary: 'Rapid Response Content published: channel 291 (Windows) C-00000291-00000000-00000032', integration: 'Content Configuration System', services: ['warden-sensor'], custom_details: { channel: '291', platform: 'windows', file: 'C-00000291-00000000-00000032.sys', previous_file: 'C-00000291-00000000-00000031.sys', template_type: 'InterProcessCommunication', instances_added: ['IPC-TI-0719-A', 'IPC-TI-0719-B'], note: 'first instances with a non-wildcard criterion on field 21 (reserved_20)', content_validator: 'pass', rollout: 'all Windows sensors >= 7.11' } });
  I.changeEvent({ at: ms('2024-07-19T04:12:40Z'), summary: 'Rapid Response Content published: channel 284 (macOS) C-00000284-00000000-00000118', integration: 'Content Configuration System', services: ['warden-sensor'], custom_details: { channel: '284', platform: 'macos', file: 'C-00000284-00000000-00000118', instances_added: 1, content_validator: 'pass' } });
  I.changeEvent({ at: revertAt, summary: 'Rapid Response Content reverted: channel 291 (Windows) back to C-00000291-00000000-00000031', integration: 'Content Configuration System', services: ['warden-sensor'], custom_details: { channel: '291', platform: 'windows', file: 'C-00000291-00000000-00000031.sys', reverted_from: 'C-00000291-00000000-00000032.sys', reason: 'INC-24-0719' } });

  // ---- Datadog
  const win = (t) => t >= onset;
  I.series({ metric: 'sensor.crash_reports', expression: 'sum:sensor.crash_reports{os:windows}.as_count()', scope: 'os:windows', interval: 30, from, to, unit: 'event', fn: (t) => {
    if (!win(t)) return I.noise(4, 0.5);
    if (t < revertAt) return I.noise(52000, 0.1) * Math.min(1, (t - onset + 30 * SEC) / (10 * 60 * SEC));
    return I.noise(9000 * Math.exp(-(t - revertAt) / (2.5 * HOUR)) + 40, 0.1); // boot loops on hosts already hit
  } });
  I.series({ metric: 'sensor.crash_reports', expression: 'sum:sensor.crash_reports{os:linux}.as_count()', scope: 'os:linux', interval: 30, from, to, unit: 'event', fn: () => I.noise(2, 0.6) });
  I.series({ metric: 'sensor.crash_reports', expression: 'sum:sensor.crash_reports{os:macos}.as_count()', scope: 'os:macos', interval: 30, from, to, unit: 'event', fn: () => I.noise(1, 0.9) });
  I.series({ metric: 'sensor.fleet.online_hosts', expression: 'sum:sensor.fleet.online_hosts{os:windows}', scope: 'os:windows', interval: 30, from, to, unit: 'host', fn: (t) => {
    if (!win(t)) return I.noise(11_400_000, 0.004);
    const lost = Math.min(1, (t - onset) / (78 * 60 * SEC));
    const regained = t > revertAt ? Math.min(0.55, (t - revertAt) / (9 * HOUR)) : 0;
    return I.noise(11_400_000 * (1 - 0.74 * lost * (1 - regained)), 0.004);
  } });
  I.series({ metric: 'sensor.fleet.online_hosts', expression: 'sum:sensor.fleet.online_hosts{os:linux}', scope: 'os:linux', interval: 30, from, to, unit: 'host', fn: () => I.noise(3_100_000, 0.004) });
  I.ddEvent({ at: ms('2024-07-19T04:15:40Z'), title: '[P1] Triggered: Windows sensor crash reports > 500/min', text: 'sum:sensor.crash_reports{os:windows} = 98,412/min', alert_type: 'error', source_type_name: 'monitor alert', tags: ['service:warden-sensor', 'os:windows'] });
  I.ddEvent({ at: ms('2024-07-19T04:02:31Z'), title: 'Deployed falconer-console console-2024.07.19.1 to prod-us1', source_type_name: 'deploy', tags: ['service:falconer-console', 'env:prod-us1'] });
  I.snapshot('crash reports by os', 'sum:sensor.crash_reports{*} by {os}.as_count()');

  // ---- logs: crash telemetry
  const hosts = ['crash-ingest-a1', 'crash-ingest-a2', 'crash-ingest-b1'];
  const versions = ['7.11.18110', '7.15.18513', '7.16.18605', '7.14.18408'];
  I.logsBetween(from, onset, 45, 'crash-ingest', 'info', hosts, () => `crash report accepted: bugcheck=0x${I.pick(['9F', '133', '1E'])} module=${I.pick(['ntoskrnl.exe', 'nvlddmkm.sys', 'tcpip.sys'])} sensor=${I.pick(versions)} (not sensor-attributed)`);
  I.logsBetween(onset, to, 320, 'crash-ingest', 'error', hosts, () => {
    const v = I.pick(versions);
    return `crash report accepted: host_id=${I.hex(32)} os=Windows 10.0.${I.pick(['19045', '22631', '20348', '17763'])} sensor=${v}\nBugCheck 50 PAGE_FAULT_IN_NONPAGED_AREA (ffff${I.hex(4)}0000009c, 0, fffff80${I.hex(9)}, 2)\nFAULTING_MODULE: wdsensor.sys  channel_file=C-00000291-00000000-00000032.sys\nSTACK_TEXT:\n nt!KeBugCheckEx\n nt!MmAccessFault+0x40b\n nt!KiPageFault+0x35e\n wdsensor!ContentInterpreter::EvalCriterion+0x1e1 [src/content/interpreter/eval.cpp @ 404]\n wdsensor!ContentInterpreter::MatchTemplateInstances+0x9a [src/content/interpreter/match.cpp @ 188]\n wdsensor!IpcHook::OnNamedPipeConnect+0x2c4 [src/sensor/hooks/ipc_hook.cpp @ 7]\n wdsensor!PipeNotifyRoutine+0x51`;
  });
  I.logsBetween(push, push + 20 * 60 * SEC, 30, 'content-cdn', 'info', ['ccs-edge-1', 'ccs-edge-2'], () => `channel update delivered: C-00000291-00000000-00000032.sys to ${I.int(40000, 260000)} sensors in last 60s`);
  I.logsBetween(revertAt, revertAt + 30 * 60 * SEC, 20, 'content-cdn', 'info', ['ccs-edge-1', 'ccs-edge-2'], () => `channel update delivered: C-00000291-00000000-00000031.sys (revert) to ${I.int(40000, 260000)} sensors in last 60s`);
  I.logsBetween(onset, to, 40, 'falconer-console', 'warn', ['console-7f9c'], () => `host went offline unexpectedly: cid=${I.hex(32)} last_event=SensorHeartbeat platform=Windows`);

  // ---- PagerDuty
  I.pdTrigger(page, '[P1] Windows sensor crash reports > 500/min', 'warden-sensor');
  I.pdNotify(page + 900, 'oncall', 'phone');
  I.pdAck(ack, 'oncall');
  I.pdEscalate(ms('2024-07-19T04:25:00Z'), 'ic');
  I.pdNote(ms('2024-07-19T05:02:00Z'), 'ic', 'All crash dumps fault in wdsensor.sys ContentInterpreter::EvalCriterion with channel file 291 loaded. Revert of 291 in progress.');
  I.pdNote(ms('2024-07-19T05:40:00Z'), 'ic', 'C-00000291-...-00000031 (previous) redeployed 05:27. Hosts coming online after that do not crash. Hosts already in a boot loop need remediation.');
  I.pdResolve(resolve, 'ic');
  I.pdAlert(ms('2024-07-19T04:16:51Z'), '[P1] Windows sensor crash reports > 500/min', { query: 'sum(last_5m):sum:sensor.crash_reports{os:windows}.as_count() > 2500', value: '491204' });

  // ---- Slack
  const at = (hms) => ms(`2024-07-19T${hms}Z`);
  I.bot(at('04:16:55'), 'PagerDuty', ':rotating_light: *Triggered* #66120 [P1] Windows sensor crash reports > 500/min');
  I.say(at('04:19:02'), 'oncall', 'ack. windows crash reports went from ~10/min to 100k/min starting 04:09. linux and mac flat');
  I.say(at('04:20:40'), 'cloud', 'Azure central US had a big outage overnight, could be customers on azure VMs rebooting?');
  I.say(at('04:21:35'), 'oncall', "crash reports are bugchecks attributed to wdsensor.sys, not reboots. and it's every cloud + physical");
  const t = I.say(at('04:22:20'), 'sensor2', '7.16.18605 hotfix went out yesterday evening. is it only 7.16?');
  I.say(at('04:25:10'), 'oncall', 'no, all versions from 7.11 up. 7.11.18110, 7.14, 7.15, 7.16 all crashing', { thread: t });
  I.say(at('04:26:00'), 'ic', "I'm IC. #inc-sensor-bsod. Customer support, hold comms until we know more");
  I.say(at('04:28:45'), 'cs', 'phones lighting up. airlines, banks. blue screens on boot. 0x50 PAGE_FAULT_IN_NONPAGED_AREA');
  I.say(at('04:31:10'), 'sensor', 'dumps I pulled: faulting IP in ContentInterpreter::EvalCriterion, reading past the end of the inputs array. IPC template path (IpcHook::OnNamedPipeConnect)');
  I.say(at('04:33:05'), 'content', 'channel 291 C-00000291-...-00000032 went out at 04:09:07. new IPC template instances IPC-TI-0719-A/B. that lines up exactly');
  I.say(at('04:34:30'), 'sensor2', 'could also be the console release at 04:02? it added channel file display');
  I.say(at('04:35:15'), 'cloud', "console is web only, it doesn't ship anything to hosts");
  I.say(at('04:41:50'), 'sensor', 'found it: IPC template type defines 21 fields, the sensor passes 20 inputs. 0719-A has a non-wildcard criterion on field 21 -> index 20 -> out of bounds read. every instance before today wildcarded it');
  I.say(at('04:43:20'), 'content', 'and content validator passed it, it checks field_index < template.field_count (21) not against the sensor input count');
  I.say(at('04:45:00'), 'ic', 'decision: revert channel 291 to 00000031 now. go');
  I.say(at('04:47:30'), 'oncall', `ccs publish token for the revert job is ${I.secret('AKIA4HALBERDCCS7QX2M')} / ${I.secret('t0pS3cr3tHalberdCcsPublishKey/Q8vL2mZr9aWx')} (rotating after)`);
  I.say(at('05:27:40'), 'content', 'revert published 05:27:12: C-00000291-00000000-00000031. delivering');
  I.say(at('05:48:00'), 'oncall', 'new crash rate falling. hosts that were offline at 05:27 and got the revert first boot fine');
  I.say(at('06:10:30'), 'cs', 'customers with boot loops still need safe mode + delete C-00000291*.sys. KB draft here');
  I.say(at('07:30:00'), 'sensor', 'fix: bounds check on field_index vs ctx.inputs.size() in EvalCriterion + validator checks against sensor input count. PR up');
  I.say(at('11:55:20'), 'ic', "new crashes at baseline since ~05:40. resolving the incident; remediation continues under INC-24-0719-R");
  I.bot(at('11:58:08'), 'PagerDuty', ':white_check_mark: *Resolved* #66120 [P1] Windows sensor crash reports > 500/min');

  const incident = { id: 'Q2H8W1LZ', source: 'pagerduty', title: '[P1] Windows sensor crash reports > 500/min', service: 'warden-sensor', severity: 'SEV1', status: 'resolved', urgency: 'high', incident_number: 66120, created_at: isoS(page), acknowledged_at: isoS(ack), resolved_at: isoS(resolve), url: 'https://halberdsec.pagerduty.com/incidents/Q2H8W1LZ' };
  const bundle = I.bundle({ incident, channel: { id: 'C07SENSBSOD', name: 'inc-sensor-bsod' }, slackOrder: 'desc' });
  const expected = {
    family: 'latent-defect',
    trigger: { kind: 'change_event', change_event_id: ce291 },
    latent_defect: { repo: SENSOR, sha: latent },
    spike_onset: { metric: 'sensor.crash_reports', scope: 'os:windows', at: iso(onset), tolerance_ms: 30000 },
    root_cause_terms: ['channel 291', 'C-00000291', 'out-of-bounds', 'out of bounds', 'EvalCriterion', 'InterProcessCommunication'],
    timeline_must_include: [
      { at: iso(page), kind: 'page' },
      { at: iso(ack), kind: 'ack' },
      { at: iso(resolve), kind: 'resolve' },
    ],
    must_not_appear: I.mustNotAppear(bundle),
  };
  void s711; void s716;
  return { bundle, expected };
}
