// A small but realistic context bundle v1 for tests: a made-up payments company ("Larkspur Pay"),
// its billing-api, and an incident where a config deploy lowered the ledger HTTP client timeout
// from 2000 ms to 200 ms, errors stepped up right after it and went back after a revert.
//
// Everything is invented and written by hand here (tests must not read /work/shared). Times follow
// the spec's vendor formats: ISO-8601 for incident/PagerDuty/GitHub/logs, Slack `ts` as epoch
// seconds with 6 decimals, Datadog pointlist as [epoch_ms, value].
//
// Planted hostile content: one secret (PLANTED_SECRET) and one person's e-mail inside chat
// messages; outputs must contain neither.

export interface BundlePerson {
  name: string;
  login: string;
  email: string;
  slackId: string;
}

export const INCIDENT_ID = 'P7QX2LM';
export const SERVICE = 'billing-api';
export const REPO = 'larkspur-pay/billing-api';
export const TIMEOUT_KEY = 'http_client_timeout_ms';
export const OLD_TIMEOUT = '2000';
export const NEW_TIMEOUT = '200';

/** The commit that lowers the timeout (shipped by TIMEOUT_DEPLOYMENT_ID) and its revert. */
export const TIMEOUT_COMMIT_SHA = '3b9f1c7e52a04d8e9c61f0b2a7d4e85c19f3a6d2';
export const REVERT_COMMIT_SHA = 'c41d08a9e7b35f2d6a90c8e14b7f3d25a6e9b0c7';
export const PREVIOUS_SHA = '8e2a5d0c3f6b9a1e4d7c0b3a6f9e2d5c8b1a4f70';
export const TIMEOUT_DEPLOYMENT_ID = 48211;
export const REVERT_DEPLOYMENT_ID = 48217;

/** The planted credential (in a chat message); no output may contain it. */
export const PLANTED_SECRET = 's3cr3t-Value';

export const PEOPLE: readonly BundlePerson[] = [
  { name: 'Marisol Quintero-Vance', login: 'mquintero', email: 'marisol.quintero@larkspurpay.example', slackId: 'U05MQV001' },
  { name: 'Dayo Okonkwo-Reyes', login: 'dokonkwo', email: 'dayo.okonkwo@larkspurpay.example', slackId: 'U05DOR002' },
  { name: 'Piotr Lindqvist', login: 'plindqvist', email: 'piotr.lindqvist@larkspurpay.example', slackId: 'U05PLQ003' },
];

export const PERSON_NAMES: readonly string[] = PEOPLE.map((p) => p.name);
export const PERSON_LOGINS: readonly string[] = PEOPLE.map((p) => p.login);
export const PERSON_EMAILS: readonly string[] = PEOPLE.map((p) => p.email);
/** Every string that identifies a person: names, logins and e-mails. */
export const PERSON_STRINGS: readonly string[] = [...PERSON_NAMES, ...PERSON_LOGINS, ...PERSON_EMAILS];

const [ONCALL, CHANGE_AUTHOR, LEDGER_ENGINEER] = PEOPLE as [BundlePerson, BundlePerson, BundlePerson];

// ---------------------------------------------------------------------------------------------
// Times (UTC). Metrics cover 13:00-15:00; the bad config is live from 13:42:30 to 14:29:40.

const T = (hhmmss: string) => `2025-03-11T${hhmmss}Z`;
const ms = (hhmmss: string) => Date.parse(T(hhmmss));
const slackTs = (hhmmss: string, micros: number) => `${Math.floor(ms(hhmmss) / 1000)}.${String(micros).padStart(6, '0')}`;

export const METRIC_START = T('13:00:00');
export const BAD_CONFIG_LIVE = T('13:42:30');
export const REVERT_LIVE = T('14:29:40');
export const INCIDENT_CREATED = T('13:47:12');

function errorPoints(): Array<[number, number]> {
  const start = ms('13:00:00');
  const stepUp = ms('13:43:00');
  const stepDown = ms('14:30:00');
  const points: Array<[number, number]> = [];
  for (let i = 0; i < 720; i++) {
    const t = start + i * 10_000;
    // deterministic noise: 0-2 errors per 10 s normally, 38-44 while the timeout is 200 ms
    const noise = (i * 7) % 3;
    const value = t >= stepUp && t < stepDown ? 38 + ((i * 5) % 7) : noise;
    points.push([t, value]);
  }
  return points;
}

function logLines() {
  const lines: Array<{ timestamp: string; service: string; status: string; host: string; message: string }> = [];
  const hosts = ['billing-api-6c9f7d-2xkq8', 'billing-api-6c9f7d-9plm4', 'billing-api-6c9f7d-tr5wz'];
  // normal traffic before the change
  const infoTimes = ['13:20:04.118', '13:25:41.302', '13:31:09.655', '13:36:27.014', '13:40:52.870', '13:41:58.233'];
  infoTimes.forEach((t, i) => {
    lines.push({
      timestamp: T(t),
      service: SERVICE,
      status: 'info',
      host: hosts[i % 3]!,
      message: `POST /v1/invoices/inv_${4100 + i}/charge completed in ${140 + i * 9}ms (ledger ok)`,
    });
  });
  // 34 timeouts while the bad config is live (13:43:05 .. 14:28:45)
  const first = ms('13:43:05');
  for (let i = 0; i < 34; i++) {
    const at = new Date(first + i * 80_000 + (i % 4) * 1_137).toISOString();
    lines.push({
      timestamp: at,
      service: SERVICE,
      status: 'error',
      host: hosts[i % 3]!,
      message: `LedgerTimeoutError: POST https://ledger.internal.larkspurpay.example/v2/postings timed out after 200ms (${TIMEOUT_KEY}=200) invoice=inv_${5200 + i}`,
    });
  }
  return lines;
}

/** Builds a fresh bundle object every call, so tests may mutate it. */
function baseBundle() {
  return {
    bundle_version: 1,
    incident: {
      id: INCIDENT_ID,
      source: 'pagerduty',
      title: 'billing-api: 5xx error rate above 3% on invoice charges',
      service: SERVICE,
      severity: 'SEV2',
      status: 'resolved',
      created_at: INCIDENT_CREATED,
      acknowledged_at: T('13:50:02'),
      resolved_at: T('14:38:20'),
      url: `https://larkspurpay.pagerduty.example/incidents/${INCIDENT_ID}`,
    } as Record<string, unknown> & { id: string; created_at: string },
    sources: {
      pagerduty: {
        log_entries: [
          {
            id: 'R8TRG01',
            type: 'trigger_log_entry',
            created_at: T('13:47:12'),
            summary: 'Triggered through the API.',
            agent: { type: 'service_reference', summary: 'billing-api (Datadog)' },
            channel: { type: 'api', details: {} },
          },
          {
            id: 'R8NTF02',
            type: 'notify_log_entry',
            created_at: T('13:47:15'),
            summary: `Notified ${ONCALL.name} by push notification.`,
            agent: { type: 'user_reference', summary: ONCALL.name },
            channel: { type: 'push_notification' },
          },
          {
            id: 'R8ACK03',
            type: 'acknowledge_log_entry',
            created_at: T('13:50:02'),
            summary: `Acknowledged by ${ONCALL.name}.`,
            agent: { type: 'user_reference', summary: ONCALL.name },
            channel: { type: 'mobile' },
          },
          {
            id: 'R8RSV04',
            type: 'resolve_log_entry',
            created_at: T('14:38:20'),
            summary: `Resolved by ${ONCALL.name}.`,
            agent: { type: 'user_reference', summary: ONCALL.name },
            channel: { type: 'web_trigger' },
          },
        ],
        alerts: [
          {
            id: 'A5BILL9',
            created_at: T('13:47:10'),
            summary: '[Datadog] billing-api 5xx error rate above 3%',
            severity: 'critical',
            body: { details: { monitor: 'billing-api 5xx rate', threshold: '3%' } },
          },
        ],
      },
      slack: {
        channel: { id: 'C05BILLINC', name: 'inc-2025-03-11-billing-api-5xx' },
        messages: [
          { ts: slackTs('13:51:03', 120044), user: ONCALL.slackId, text: 'ack, looking. invoice charges failing with 502s from billing-api' },
          { ts: slackTs('13:53:40', 508311), user: ONCALL.slackId, text: `Commander: <@${ONCALL.slackId}> for now. <@${CHANGE_AUTHOR.slackId}> can you check what shipped to billing-api in the last hour?` },
          { ts: slackTs('13:58:19', 3207), user: LEDGER_ENGINEER.slackId, text: 'ledger side looks healthy, p99 is ~450ms as usual. billing logs say LedgerTimeoutError after 200ms' },
          {
            ts: slackTs('14:02:47', 774915),
            user: LEDGER_ENGINEER.slackId,
            text: `if you need ledger staging access use the break-glass account, password=${PLANTED_SECRET} (rotating after this)`,
          },
          { ts: slackTs('14:09:12', 66), user: CHANGE_AUTHOR.slackId, text: `deploy ${TIMEOUT_DEPLOYMENT_ID} lowered ${TIMEOUT_KEY} from 2000 to 200 in config/app.yaml. that is below ledger p99, reverting` },
          { ts: slackTs('14:14:30', 431200), user: CHANGE_AUTHOR.slackId, text: `revert PR is up, questions about the ledger SLO go to ${LEDGER_ENGINEER.email}` },
          { ts: slackTs('14:31:55', 918273), user: ONCALL.slackId, text: 'revert is live, error rate back to baseline. monitoring for 5 more minutes' },
          { ts: slackTs('14:38:25', 250000), user: ONCALL.slackId, text: 'resolved. post-mortem to follow' },
        ],
        users: Object.fromEntries(PEOPLE.map((p) => [p.slackId, { name: p.login, real_name: p.name }])),
      },
      github: {
        repos: [
          {
            full_name: REPO,
            deployments: [
              {
                id: TIMEOUT_DEPLOYMENT_ID,
                sha: TIMEOUT_COMMIT_SHA,
                ref: 'main',
                environment: 'production',
                created_at: T('13:40:05'),
                description: 'deploy main@3b9f1c7 (config)',
                creator: { login: 'larkspur-deploy-bot', type: 'Bot' },
                statuses: [
                  { state: 'in_progress', created_at: T('13:40:20'), description: 'rolling out' },
                  { state: 'success', created_at: BAD_CONFIG_LIVE, description: 'rollout complete' },
                ],
              },
              {
                id: REVERT_DEPLOYMENT_ID,
                sha: REVERT_COMMIT_SHA,
                ref: 'main',
                environment: 'production',
                created_at: T('14:27:10'),
                description: 'deploy main@c41d08a (revert)',
                creator: { login: 'larkspur-deploy-bot', type: 'Bot' },
                statuses: [
                  { state: 'in_progress', created_at: T('14:27:25'), description: 'rolling out' },
                  { state: 'success', created_at: REVERT_LIVE, description: 'rollout complete' },
                ],
              },
            ],
            commits: [
              {
                sha: TIMEOUT_COMMIT_SHA,
                commit: {
                  message: 'Lower ledger client timeout to fail fast on slow postings\n\nTighten http_client_timeout_ms so invoice charges do not hang.',
                  author: { name: CHANGE_AUTHOR.name, email: CHANGE_AUTHOR.email, date: T('13:12:44') },
                  committer: { name: 'GitHub', email: 'noreply@github.com', date: T('13:31:02') },
                },
                author: { login: CHANGE_AUTHOR.login, type: 'User' },
                parents: [{ sha: PREVIOUS_SHA }],
                files: [
                  {
                    filename: 'config/app.yaml',
                    status: 'modified',
                    additions: 1,
                    deletions: 1,
                    patch: `@@ -14,6 +14,6 @@ ledger:\n   base_url: https://ledger.internal.larkspurpay.example\n   retries: 2\n-  ${TIMEOUT_KEY}: ${OLD_TIMEOUT}\n+  ${TIMEOUT_KEY}: ${NEW_TIMEOUT}\n   circuit_breaker: true`,
                  },
                ],
              },
              {
                sha: REVERT_COMMIT_SHA,
                commit: {
                  message: `Revert "Lower ledger client timeout to fail fast on slow postings"\n\nThis reverts commit ${TIMEOUT_COMMIT_SHA}.`,
                  author: { name: CHANGE_AUTHOR.name, email: CHANGE_AUTHOR.email, date: T('14:16:30') },
                  committer: { name: 'GitHub', email: 'noreply@github.com', date: T('14:24:51') },
                },
                author: { login: CHANGE_AUTHOR.login, type: 'User' },
                parents: [{ sha: TIMEOUT_COMMIT_SHA }],
                files: [
                  {
                    filename: 'config/app.yaml',
                    status: 'modified',
                    additions: 1,
                    deletions: 1,
                    patch: `@@ -14,6 +14,6 @@ ledger:\n   base_url: https://ledger.internal.larkspurpay.example\n   retries: 2\n-  ${TIMEOUT_KEY}: ${NEW_TIMEOUT}\n+  ${TIMEOUT_KEY}: ${OLD_TIMEOUT}\n   circuit_breaker: true`,
                  },
                ],
              },
            ],
            deployment_commits: {
              [String(TIMEOUT_DEPLOYMENT_ID)]: [TIMEOUT_COMMIT_SHA],
              [String(REVERT_DEPLOYMENT_ID)]: [REVERT_COMMIT_SHA],
            },
          },
        ],
      },
      datadog: {
        metrics: [
          {
            metric: 'trace.http.request.errors',
            expression: `sum:trace.http.request.errors{service:${SERVICE},http.status_class:5xx}.as_count()`,
            scope: `service:${SERVICE}`,
            unit: [{ name: 'request' }],
            interval: 10,
            pointlist: errorPoints(),
          },
        ],
      },
      logs: logLines(),
    },
  };
}

export type TestBundle = ReturnType<typeof baseBundle>;

/** Expected counts of the bundle as get_incident_context reports them. */
export const BUNDLE_COUNTS = {
  pagerduty_log_entries: 4,
  slack_messages: 8,
  repositories: 1,
  deployments: 2,
  commits: 2,
  metric_series: 1,
  log_lines: 40,
} as const;

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function deepMerge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete out[k];
    else if (isPlain(v) && isPlain(out[k])) out[k] = deepMerge(out[k] as Plain, v);
    else out[k] = v;
  }
  return out;
}

/**
 * A fresh bundle. `overrides` is merged deeply into plain objects (arrays are replaced whole); a
 * key set to `undefined` is removed, e.g. `makeBundle({ incident: { created_at: undefined } })`.
 */
export function makeBundle(overrides: Record<string, unknown> = {}): TestBundle {
  return deepMerge(baseBundle() as unknown as Plain, overrides) as unknown as TestBundle;
}
