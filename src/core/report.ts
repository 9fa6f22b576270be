// Report v1: the output contract (docs/report.md). The MCP tools' structured output, the Markdown,
// the stored history and (later) Slack posts and tickets are all made from this object.

export type Relevance = 'high' | 'medium' | 'low';
export type TimelineSource = 'pagerduty' | 'opsgenie' | 'slack' | 'github' | 'datadog' | 'newrelic' | 'logs';
export type TimelineKind =
  | 'deploy' | 'commit' | 'alert' | 'page' | 'ack' | 'resolve' | 'metric_spike' | 'metric_recovery'
  | 'log' | 'chat' | 'config_change' | 'event';

export interface TimelineEntry {
  at: string;
  source: TimelineSource;
  kind: TimelineKind;
  summary: string;
  relevance: Relevance;
  ref?: string;
  count?: number;
}

export interface SpikeEntry {
  metric: string;
  scope: string;
  onset: string;
  peak: number;
  baseline: number;
  recovered_at?: string;
  direction: 'up' | 'down';
  error_like: boolean;
}

export type ChangeKind = 'deployment' | 'config_change' | 'change_event';
export type CandidateRole = 'trigger' | 'latent_defect' | 'ruled_out';

export interface Trigger {
  kind: ChangeKind;
  /** null for a change event that names no repository */
  repo: string | null;
  /** null for a change event */
  deployment_id: number | string | null;
  /** the commit that introduced the fault; null for a change event that names no commit */
  sha: string | null;
  /** the PagerDuty or Datadog change event id, when the trigger is a change event */
  change_event_id?: string;
  confidence: number;
  evidence: string[];
}

export interface Candidate {
  kind: ChangeKind;
  /** where the change was recorded: a GitHub deployment, a PagerDuty or Datadog change event */
  source: 'github' | 'pagerduty' | 'datadog';
  repo: string | null;
  sha: string | null;
  deployment_id: number | string | null;
  change_event_id?: string;
  score: number;
  finished_at: string | null;
  role: CandidateRole;
  ruled: 'in' | 'out';
  reasons: string[];
}

export interface FiveWhy {
  why: string;
  because: string;
  evidence: string[];
}

export type Priority = 'P0' | 'P1' | 'P2' | 'P3';
export type ActionType = 'prevent' | 'detect' | 'mitigate' | 'process';

export interface ActionItem {
  title: string;
  priority: Priority;
  type: ActionType;
  rationale: string;
  labels: string[];
}

export interface SimilarIncident {
  id: string;
  title: string;
  score: number;
  why_similar: string;
}

/** A past incident this one repeats, and what it left open. */
export interface SeenBefore {
  id: string;
  title: string;
  date: string | null;
  score: number;
  why_similar: string[];
  url?: string;
  /** the past incident's action items not known to be done */
  open_action_items: Array<{
    title: string;
    /** "acme/api#12" or "OPS-42" */
    ticket: string | null;
    url: string | null;
    /** open: the ticket tracker (or the post-mortem) says so; unknown: nothing says it was done */
    status: 'open' | 'unknown';
    /** where the status was read: the ticket tracker or the past post-mortem */
    status_from: 'github' | 'jira' | 'postmortem' | null;
  }>;
}

/** Where instruction-like text was withheld, so a reviewer can look in the original. */
export interface WithheldEntry {
  source: TimelineSource;
  at: string;
  ref?: string;
  /** how many records the withheld text stands for (the lines of a log signature, else 1) */
  count: number;
}

export interface Report {
  report_version: 1;
  incident: {
    id: string;
    title: string;
    service: string | null;
    severity: string | null;
    started_at: string;
    detected_at: string;
    resolved_at: string | null;
    duration_ms?: number;
    url?: string;
  };
  summary: string;
  impact: string;
  timeline: TimelineEntry[];
  spikes: SpikeEntry[];
  trigger: Trigger | null;
  trigger_reason: string;
  candidates: Candidate[];
  root_cause: string;
  five_whys: FiveWhy[];
  action_items: ActionItem[];
  similar_incidents: SimilarIncident[];
  /** past incidents this one repeats (present only when some were found) */
  seen_before?: SeenBefore[];
  log_signatures: Array<{ template: string; count: number; first_at: string; last_at: string; level: string }>;
  data_gaps: string[];
  redactions: { total: number; by_kind: Record<string, number> };
  /** items whose instruction-like text was replaced by "[instruction-like text withheld]" */
  withheld: WithheldEntry[];
  generated_by: { engine: 'deterministic' | 'llm'; model: string | null; version: string };
}

/** "Deployment 1001 of acme/api", "Configuration change 7 of acme/config" or "Change event 01AB". */
export function triggerLabel(t: Pick<Trigger, 'kind' | 'repo' | 'deployment_id' | 'change_event_id'>): string {
  if (t.kind === 'change_event') return `Change event ${t.change_event_id ?? ''}${t.repo ? ` of ${t.repo}` : ''}`.trim();
  return `${t.kind === 'config_change' ? 'Configuration change' : 'Deployment'} ${t.deployment_id} of ${t.repo}`;
}

export const ROLE_LABEL: Record<CandidateRole, string> = { trigger: 'trigger', latent_defect: 'latent defect', ruled_out: 'ruled out' };

/** "acme/api #1001 (9f2c1e0)" or "pagerduty change event 01AB". */
export function candidateLabel(c: Pick<Candidate, 'source' | 'repo' | 'deployment_id' | 'sha' | 'change_event_id'>): string {
  if (c.change_event_id) return `${c.source} change event ${c.change_event_id}${c.repo ? ` of ${c.repo}` : ''}${c.sha ? ` (${c.sha.slice(0, 7)})` : ''}`;
  return `${c.repo} #${c.deployment_id}${c.sha ? ` (${c.sha.slice(0, 7)})` : ''}`;
}
