// Harvesting: live vendor APIs -> context bundle v1. Each source is independent; a failing
// source is recorded in harvest.errors and the rest goes on.

export interface HarvestErrorEntry {
  source: string;
  message: string;
  retryable: boolean;
}

export interface TruncationEntry {
  source: string;
  what: string;
  kept: number;
  total: number | null;
}

export interface TimeWindow {
  fromMs: number;
  toMs: number;
}

/** The incident as the paging system reports it, before any other source is read. */
export interface HarvestedIncident {
  id: string;
  source: 'pagerduty' | 'opsgenie';
  number: number | null;
  title: string;
  service: string | null;
  severity: string | null;
  urgency: string | null;
  status: string;
  createdAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  url: string | null;
  /** the vendor's incident object as returned (kept in the bundle as the incident record) */
  raw: Record<string, unknown>;
}

export interface HarvestContext {
  incident: HarvestedIncident;
  /** metrics, logs and chat */
  window: TimeWindow;
  /** deployments (longer, so slow-burn changes are seen) */
  deployWindow: TimeWindow;
  caps: HarvestCaps;
  http: HttpPolicy;
  service: ServiceMapping | null;
  /** progress messages, already free of secrets */
  log: (message: string) => void;
}

export interface HarvestCaps {
  pagerdutyLogEntries: number;
  slackMessages: number;
  slackChannelsScanned: number;
  deploymentsPerRepo: number;
  commitsPerDeployment: number;
  patchChars: number;
  logLines: number;
  metricSeries: number;
  events: number;
}

export interface HttpPolicy {
  timeoutMs: number;
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface ServiceMapping {
  name: string;
  repos: string[];
  slackChannel: string | null;
  datadogQueries: string[];
  datadogLogQuery: string | null;
  newrelicQueries: string[];
}

/** What one source adds to the bundle. */
export interface SourceOutcome<T> {
  data: T | null;
  errors: HarvestErrorEntry[];
  truncated: TruncationEntry[];
}

export function emptyOutcome<T>(): SourceOutcome<T> {
  return { data: null, errors: [], truncated: [] };
}
