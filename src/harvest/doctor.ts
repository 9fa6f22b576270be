// `hindsight doctor`: for each source, is it configured, reachable and authorised, and which
// permission is missing. Checks run in parallel; no secret is ever printed.
import { redactSecrets } from '../core/redact.js';
import type { HarvestConfig } from './config.js';
import type { DoctorCheck } from './doctorTypes.js';
import { checkDatadog } from './sources/datadog.js';
import { checkGithub } from './sources/github.js';
import { checkNewRelic } from './sources/newrelic.js';
import { checkOpsgenie } from './sources/opsgenie.js';
import { checkPagerDuty } from './sources/pagerduty.js';
import { checkSlack } from './sources/slack.js';

const ENV_HINT: Record<DoctorCheck['source'], string> = {
  pagerduty: 'set PAGERDUTY_TOKEN',
  opsgenie: 'set OPSGENIE_API_KEY',
  slack: 'set SLACK_BOT_TOKEN',
  github: 'set GITHUB_TOKEN and HINDSIGHT_GITHUB_REPOS',
  datadog: 'set DD_API_KEY and DD_APP_KEY',
  newrelic: 'set NEW_RELIC_API_KEY and NEW_RELIC_ACCOUNT_ID',
  pinecone: 'set PINECONE_API_KEY (optional: the history then lives in Pinecone)',
};

function notConfigured(source: DoctorCheck['source']): DoctorCheck {
  return { source, configured: false, reachable: null, authorized: null, missing: [], detail: `not configured (${ENV_HINT[source]})` };
}

async function guarded(source: DoctorCheck['source'], run: () => Promise<DoctorCheck>): Promise<DoctorCheck> {
  try {
    const check = await run();
    return { ...check, detail: redactSecrets(check.detail), missing: check.missing.map(redactSecrets) };
  } catch (err) {
    return { source, configured: true, reachable: false, authorized: null, missing: [], detail: redactSecrets((err as Error).message) };
  }
}

export async function runDoctor(config: HarvestConfig): Promise<DoctorCheck[]> {
  const c = config.credentials;
  const policy = { ...config.http, retries: Math.min(config.http.retries, 1) };
  const repos = [...new Set([...config.githubRepos, ...Object.values(config.services).flatMap((s) => s.repos)])];
  return Promise.all([
    c.pagerduty ? guarded('pagerduty', () => checkPagerDuty(c.pagerduty!, policy)) : notConfigured('pagerduty'),
    c.opsgenie ? guarded('opsgenie', () => checkOpsgenie(c.opsgenie!, policy)) : notConfigured('opsgenie'),
    c.slack ? guarded('slack', () => checkSlack(c.slack!, policy)) : notConfigured('slack'),
    c.github ? guarded('github', () => checkGithub(c.github!, policy, repos)) : notConfigured('github'),
    c.datadog ? guarded('datadog', () => checkDatadog(c.datadog!, policy)) : notConfigured('datadog'),
    c.newrelic ? guarded('newrelic', () => checkNewRelic(c.newrelic!, policy)) : notConfigured('newrelic'),
  ]);
}

const mark = (v: boolean | null) => (v === null ? '—' : v ? 'yes' : 'NO');

export function doctorTable(checks: DoctorCheck[]): string {
  const rows = checks.map((c) => [c.source, c.configured ? 'yes' : 'no', mark(c.reachable), mark(c.authorized), c.missing.join(', ') || '—', c.detail]);
  const header = ['source', 'configured', 'reachable', 'authorized', 'missing permission', 'detail'];
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Healthy when every configured source is reachable and authorised with nothing missing. */
export function doctorHealthy(checks: DoctorCheck[]): boolean {
  return checks.every((c) => !c.configured || (c.reachable === true && c.authorized !== false && c.missing.length === 0));
}
