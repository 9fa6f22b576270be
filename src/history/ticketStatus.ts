// Reads whether a past action item's ticket is still open, from GitHub Issues or Jira, with the
// same credentials and clients ticket filing uses. Unreadable tickets give null (not "open").
import { Octokit } from '@octokit/rest';
import { Version3Client } from 'jira.js';
import type { TicketStatusReader } from './service.js';

interface Credentials {
  github: { token: string; apiUrl: string } | null;
  jira: { host: string; email: string; apiToken: string } | null;
  timeoutMs: number;
}

export function ticketStatusReaderFor(creds: Credentials): TicketStatusReader | undefined {
  if (!creds.github && !creds.jira) return undefined;
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const octokit = creds.github ? new Octokit({ auth: creds.github.token, baseUrl: creds.github.apiUrl, userAgent: 'hindsight-history', log: silent, request: { log: silent } }) : null;
  const jira = creds.jira
    ? new Version3Client({ host: creds.jira.host.replace(/\/+$/, ''), authentication: { basic: { email: creds.jira.email, apiToken: creds.jira.apiToken } }, baseRequestConfig: { timeout: creds.timeoutMs } })
    : null;
  const cache = new Map<string, Promise<'open' | 'done' | null>>();
  const read = async (ticket: Parameters<TicketStatusReader>[0]): Promise<'open' | 'done' | null> => {
    if (ticket.system === 'github' && octokit) {
      const m = /^([\w.-]+)\/([\w.-]+)#(\d+)$/.exec(ticket.key);
      if (!m) return null;
      const res = await octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}', {
        owner: m[1]!, repo: m[2]!, issue_number: Number(m[3]), request: { signal: AbortSignal.timeout(creds.timeoutMs) },
      });
      return (res.data as { state?: string }).state === 'closed' ? 'done' : 'open';
    }
    if (ticket.system === 'jira' && jira) {
      const issue = await jira.issues.getIssue({ issueIdOrKey: ticket.key, fields: ['status'] });
      const category = (issue.fields as { status?: { statusCategory?: { key?: string } } } | undefined)?.status?.statusCategory?.key;
      return category === 'done' ? 'done' : category ? 'open' : null;
    }
    return null;
  };
  return (ticket) => {
    const key = `${ticket.system}:${ticket.key}`;
    let p = cache.get(key);
    if (!p) cache.set(key, (p = read(ticket).catch(() => null)));
    return p;
  };
}

/** The reader for the environment's GitHub and Jira credentials (none configured: undefined). */
export async function ticketStatusReader(env: NodeJS.ProcessEnv): Promise<TicketStatusReader | undefined> {
  try {
    const { loadConfig } = await import('../harvest/config.js');
    const config = loadConfig(env);
    return ticketStatusReaderFor({ github: config.credentials.github, jira: config.autonomous.jira, timeoutMs: config.http.timeoutMs });
  } catch {
    return undefined;
  }
}
