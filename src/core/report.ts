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

export interface Trigger {
  kind: 'deployment' | 'config_change';
  repo: string;
  deployment_id: number | string;
  sha: string;
  confidence: number;
  evidence: string[];
}

export interface Candidate {
  repo: string;
  sha: string;
  deployment_id: number | string;
  score: number;
  finished_at: string | null;
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
  log_signatures: Array<{ template: string; count: number; first_at: string; last_at: string; level: string }>;
  data_gaps: string[];
  redactions: { total: number; by_kind: Record<string, number> };
  generated_by: { engine: 'deterministic' | 'llm'; model: string | null; version: string };
}
