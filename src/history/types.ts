// A past incident as the history index keeps it: what an imported post-mortem (Markdown, HTML,
// JSON) or a stored Hindsight report says, reduced to the fields similar-incident search compares.

export type TriggerKind =
  | 'deployment'
  | 'config_change'
  | 'feature_flag'
  | 'infrastructure'
  | 'dependency'
  | 'capacity'
  | 'expiry'
  | 'manual'
  | 'none';

export type ItemStatus = 'open' | 'done';

export interface TicketRef {
  system: 'github' | 'jira' | 'other';
  /** "acme/api#123", "OPS-42" or the URL when nothing better is known */
  key: string;
  url: string | null;
}

export interface PastActionItem {
  title: string;
  /** as written in the post-mortem (checkbox, status column, "(done)"); null when it does not say */
  status: ItemStatus | null;
  ticket: TicketRef | null;
}

export interface PastIncident {
  id: string;
  title: string;
  /** ISO date-time (or date) the incident happened, when the document says */
  date: string | null;
  services: string[];
  /** normalised: sev1..sev5, or null */
  severity: string | null;
  summary: string;
  root_cause: string;
  trigger_kind: TriggerKind | null;
  failure_modes: string[];
  action_items: PastActionItem[];
  /** error messages with their variable parts masked (numbers, ids, addresses) */
  error_signatures: string[];
  files: string[];
  config_keys: string[];
  hosts: string[];
  /** every other word of the document, for full-text search */
  body: string;
  origin: 'markdown' | 'html' | 'report' | 'generic-json';
  url: string | null;
}

export interface SimilarPast {
  incident: PastIncident;
  /** fused score in [0, 1], higher is more similar */
  score: number;
  /** the features both incidents share, most telling first */
  why_similar: string[];
}

export interface HistoryFilter {
  service?: string;
  /** ISO bounds on the incident date, inclusive */
  from?: string;
  to?: string;
  severity?: string;
}
