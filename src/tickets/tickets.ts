// Tickets from a post-mortem's action items: the drafts (one implementation for the dry-run tool
// and the real filers), where they go (GitHub Issues or Jira, per service), and what filing
// returned. Filing is exactly-once per incident and action item: every draft carries a stable
// marker `hindsight:<incident>:<hash>` that the filers look for before creating anything.
import { createHash } from 'node:crypto';
import { redactSecrets } from '../core/redact.js';
import type { ActionItem, ActionType, Priority, Report } from '../core/report.js';
import type { AutonomousConfig, HarvestConfig } from '../harvest/config.js';
import type { HttpPolicy } from '../harvest/types.js';

/** never more tickets than this for one incident, whatever the report holds */
export const MAX_TICKETS_PER_INCIDENT = 5;
/** every Hindsight ticket carries it; open tickets with it are searched for similar titles */
export const POSTMORTEM_LABEL = 'postmortem';
/** titles whose word sets overlap at least this much (Jaccard) are the same action */
export const SIMILAR_TITLE_THRESHOLD = 0.8;

const MARKER_PREFIX = 'hindsight:';
/** field caps well inside GitHub's (65,536-character body) and Jira's (255-character summary) limits */
const MAX_TITLE_CHARS = 250;
const MAX_FIELD_CHARS = 8000;

export interface TicketDraft {
  title: string;
  /** Markdown; ends with the marker as an HTML comment */
  body: string;
  labels: string[];
  priority: Priority;
  type: ActionType;
  /** `hindsight:<incident id>:<hash>`: how a rerun finds the ticket it already filed */
  marker: string;
}

export type TicketTarget =
  | { system: 'github'; repo: string }
  | { system: 'jira'; project: string; issueType: string; priorities: Record<Priority, string> };

export interface FiledTicket {
  marker: string;
  /** `owner/repo#12` or the Jira key `OPS-12` */
  key: string;
  url: string;
  /** created now; found from an earlier run; linked (commented) to a similar open ticket */
  status: 'created' | 'existing' | 'linked';
}

export type TicketFiler = (report: Report, drafts: TicketDraft[]) => Promise<FiledTicket[]>;

/** Options shared by the GitHub and Jira filers. */
export interface FileOptions {
  /** timeouts and retries for every call (withRetries) */
  policy: HttpPolicy;
  /** progress lines (retries), free of credentials */
  log?: (message: string) => void;
  /** the incident, for the comment left on a similar ticket (else the id from the marker) */
  incident?: IncidentRef;
  /** open tickets of past incidents this one repeats: a draft for the same action comments there */
  pastTickets?: PastTicket[];
}

/** An open action item of a past incident this one repeats (the report's "Seen before"), with its ticket. */
export interface PastTicket {
  /** `owner/repo#12` or `OPS-12` */
  key: string;
  /** the past action item as written */
  title: string;
}

/**
 * A past ticket is the same action at this title similarity: lower than SIMILAR_TITLE_THRESHOLD
 * because the incidents' structured features already say it is the same failure.
 */
export const SEEN_BEFORE_TITLE_THRESHOLD = 0.5;

/** The still-open past tickets a report's "Seen before" lists. */
export function pastTicketsOf(report: Report): PastTicket[] {
  return (report.seen_before ?? []).flatMap((s) => s.open_action_items.flatMap((a) => (a.ticket ? [{ key: a.ticket, title: a.title }] : [])));
}

/** The past ticket this draft repeats (best title match at or above the threshold), or null. */
export function pastTicketFor(title: string, tickets: readonly PastTicket[]): PastTicket | null {
  let best: { t: PastTicket; score: number } | null = null;
  for (const t of tickets) {
    const score = titleSimilarity(title, t.title);
    if (score >= SEEN_BEFORE_TITLE_THRESHOLD && (!best || score > best.score)) best = { t, score };
  }
  return best?.t ?? null;
}

export interface IncidentRef {
  id: string;
  title: string;
  url?: string;
}

/** Filing stopped part-way (after retries): what was filed so far. A rerun completes it without duplicates. */
export class TicketFilingError extends Error {
  override name = 'TicketFilingError';
  constructor(
    message: string,
    readonly filed: FiledTicket[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ---------------------------------------------------------------------------------------------
// Markers and drafts

/** Stable per incident and action item, so a rerun finds the ticket it already filed. */
export function ticketMarker(incidentId: string, item: Pick<ActionItem, 'type' | 'title'>): string {
  const hash = createHash('sha256').update(`${item.type}\n${item.title.toLowerCase()}`).digest('hex').slice(0, 12);
  return `${MARKER_PREFIX}${incidentId}:${hash}`;
}

/** The incident id inside a marker (`hindsight:<id>:<hash>`; ids may contain colons). */
export function incidentOfMarker(marker: string): string {
  const rest = marker.startsWith(MARKER_PREFIX) ? marker.slice(MARKER_PREFIX.length) : marker;
  const cut = rest.lastIndexOf(':');
  return cut > 0 ? rest.slice(0, cut) : rest;
}

/** What every ticket of one incident contains (`hindsight:<id>:`), to tell them from past incidents' tickets. */
export function incidentMarkerPrefix(incidentId: string): string {
  return `${MARKER_PREFIX}${incidentId}:`;
}

/** The marker as it appears in a GitHub body or comment (invisible when rendered). */
export function markerComment(marker: string): string {
  return `<!-- ${marker} -->`;
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

const clean = (text: string, max: number) => clip(redactSecrets(text), max);

/** Markdown body: rationale, incident, root cause, type and priority, then the marker. */
export function ticketBody(report: Report, item: ActionItem, marker: string): string {
  const inc = report.incident;
  return [
    `**Why:** ${clean(item.rationale, MAX_FIELD_CHARS)}`,
    '',
    `**Incident:** ${clean(inc.id, 200)} — ${clean(inc.title, 500)}${inc.url ? ` (${clean(inc.url, 1000)})` : ''}`,
    `**Root cause (draft):** ${clean(report.root_cause, MAX_FIELD_CHARS)}`,
    `**Type:** ${item.type} · **Priority:** ${item.priority}`,
    '',
    markerComment(marker),
  ].join('\n');
}

const PRIORITY_RANK: Record<Priority, number> = { P0: 0, P1: 1, P2: 2, P3: 3 };

/**
 * The report's action items as ticket drafts: at most MAX_TICKETS_PER_INCIDENT, highest priority
 * first (report order within a priority), one per marker. Every string goes through
 * redactSecrets even though the report was redacted as a whole already.
 */
export function draftTickets(report: Report): TicketDraft[] {
  const ranked = report.action_items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => (PRIORITY_RANK[a.item.priority] ?? 9) - (PRIORITY_RANK[b.item.priority] ?? 9) || a.index - b.index);
  const seen = new Set<string>();
  const drafts: TicketDraft[] = [];
  for (const { item } of ranked) {
    if (drafts.length >= MAX_TICKETS_PER_INCIDENT) break;
    const marker = redactSecrets(ticketMarker(report.incident.id, item));
    if (seen.has(marker)) continue;
    seen.add(marker);
    const labels = [...new Set([POSTMORTEM_LABEL, ...item.labels.map((l) => redactSecrets(l).trim()).filter(Boolean)])];
    drafts.push({
      title: clean(item.title, MAX_TITLE_CHARS),
      body: ticketBody(report, item, marker),
      labels,
      priority: item.priority,
      type: item.type,
      marker,
    });
  }
  return drafts;
}

// ---------------------------------------------------------------------------------------------
// Similar titles

/** lower case, words of letters and digits only */
export function titleWords(title: string): Set<string> {
  return new Set(title.toLowerCase().normalize('NFKC').split(/[^\p{L}\p{N}]+/u).filter(Boolean));
}

/** Jaccard similarity of two titles' word sets (1 for equal normalised titles). */
export function titleSimilarity(a: string, b: string): number {
  const wa = titleWords(a);
  const wb = titleWords(b);
  if (wa.size === 0 && wb.size === 0) return 1;
  let common = 0;
  for (const w of wa) if (wb.has(w)) common += 1;
  return common / (wa.size + wb.size - common);
}

/**
 * The open ticket of a past incident that this draft repeats: the most similar title at or above
 * the threshold, ties to the oldest (lowest `order`), so reruns pick the same one.
 */
export function mostSimilar<T extends { title: string; order: number }>(title: string, candidates: readonly T[]): T | null {
  let best: { c: T; score: number } | null = null;
  for (const c of candidates) {
    const score = titleSimilarity(title, c.title);
    if (score < SIMILAR_TITLE_THRESHOLD) continue;
    if (!best || score > best.score || (score === best.score && c.order < best.c.order)) best = { c, score };
  }
  return best?.c ?? null;
}

/** The comment left on a similar ticket instead of filing a duplicate (Markdown; marker at the end). */
export function linkCommentBody(draft: TicketDraft, incident?: IncidentRef): string {
  const inc: IncidentRef = incident ?? { id: incidentOfMarker(draft.marker), title: '' };
  return [
    `Hindsight: incident **${clean(inc.id, 200)}**${inc.title ? ` (${clean(inc.title, 500)})` : ''} calls for the same action again${inc.url ? `: ${clean(inc.url, 1000)}` : '.'}`,
    '',
    `**Action item (${draft.priority} · ${draft.type}):** ${draft.title}`,
    '',
    markerComment(draft.marker),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Targets and wiring

/**
 * Where a service's tickets go. A `per_service` entry wins: naming only a GitHub repo or only a
 * Jira project picks that system, naming both uses the configured system. Otherwise the
 * configured system with its default repo or project. Null when nothing is configured.
 */
export function resolveTarget(config: AutonomousConfig, service: string | null): TicketTarget | null {
  const t = config.tickets;
  const github = (repo: string): TicketTarget => ({ system: 'github', repo });
  const jira = (project: string): TicketTarget => ({ system: 'jira', project, issueType: t.jiraIssueType, priorities: { ...t.jiraPriorities } });
  const per = service !== null ? t.perService[service] : undefined;
  const perRepo = per?.githubRepo ?? null;
  const perProject = per?.jiraProject ?? null;
  if (perRepo && !perProject) return github(perRepo);
  if (perProject && !perRepo) return jira(perProject);
  if (perRepo && perProject) return t.system === 'jira' ? jira(perProject) : github(perRepo);
  if (t.system === 'jira') return t.jiraProject ? jira(t.jiraProject) : null;
  return t.githubRepo ? github(t.githubRepo) : null;
}

/** `owner/repo` or the Jira project key */
export function targetProject(target: TicketTarget): string {
  return target.system === 'github' ? target.repo : target.project;
}

/**
 * Ticket filing for ToolDeps, from the loaded configuration: `ticketTarget(report)` is the
 * configured target for the report's service when credentials for that system exist (else
 * null), `ticketFiler` files there. The filers are imported on first use.
 */
export function ticketDeps(config: HarvestConfig, opts: { log?: (message: string) => void } = {}): {
  ticketTarget: (report: Report) => TicketTarget | null;
  ticketFiler: TicketFiler;
} {
  const ticketTarget = (report: Report): TicketTarget | null => {
    const target = resolveTarget(config.autonomous, report.incident.service);
    if (!target) return null;
    if (target.system === 'github' && !config.credentials.github) return null;
    if (target.system === 'jira' && !config.autonomous.jira) return null;
    return target;
  };
  const extraLabels = config.autonomous.tickets.labels;
  const ticketFiler: TicketFiler = async (report, drafts) => {
    const target = ticketTarget(report);
    if (!target) throw new TicketFilingError(`no ticket target with credentials is configured for service "${report.incident.service ?? '(none)'}"`, []);
    const withLabels = drafts.map((d) => ({ ...d, labels: [...new Set([...extraLabels, ...d.labels])] }));
    const options: FileOptions = { policy: config.http, log: opts.log, incident: report.incident, pastTickets: pastTicketsOf(report) };
    if (target.system === 'github') {
      const { fileGithubIssues } = await import('./githubIssues.js');
      return fileGithubIssues(config.credentials.github!, target, withLabels, options);
    }
    const { fileJiraIssues } = await import('./jiraIssues.js');
    return fileJiraIssues(config.autonomous.jira!, target, withLabels, options);
  };
  return { ticketTarget, ticketFiler };
}
