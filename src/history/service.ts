// What the CLI, the MCP tools and the watch pipeline ask of the history: similar incidents for a
// text, a stored incident or a fresh report, and the "Seen before" entries of a report.
import { analyzeBundle, buildReport } from '../core/analyze.js';
import type { Report, SeenBefore, SimilarIncident } from '../core/report.js';
import type { IncidentStore } from '../store/incidentStore.js';
import { historyOf } from './backend.js';
import { pastFromReport } from './json.js';
import { queryFromIncident, type HistoryQuery } from './query.js';
import type { HistoryFilter, PastIncident, SimilarPast } from './types.js';

/** Results at or above this fused score are taken as the same failure seen before. */
export const SEEN_BEFORE_THRESHOLD = 0.5;

export class UnknownIncidentError extends Error {
  override name = 'UnknownIncidentError';
}

/** The past-incident view of a stored incident: imported, reported, or analysed from its bundle. */
export function pastOfStored(store: IncidentStore, id: string): PastIncident | null {
  const imported = store.history.get(id);
  if (imported) return imported;
  const stored = store.getReport(id);
  if (stored) return pastFromReport(stored.report);
  const bundle = store.getBundle(id);
  return bundle ? pastFromReport(buildReport(analyzeBundle(bundle))) : null;
}

export interface SearchRequest {
  query?: string;
  incidentId?: string;
  filter?: HistoryFilter;
  limit?: number;
  excludeId?: string;
}

/** The query of a search request: a stored incident's features, plus those of the text when both are given. */
function requestQuery(req: SearchRequest, past: PastIncident | null, fromText: HistoryQuery | null): HistoryQuery | null {
  let query: HistoryQuery;
  if (req.incidentId) {
    if (!past) throw new UnknownIncidentError(`unknown incident "${req.incidentId}"`);
    query = queryFromIncident(past);
    if (fromText) {
      query = { ...query, text: `${req.query}\n${query.text}` };
      for (const k of ['error_signatures', 'files', 'config_keys', 'hosts', 'services', 'failure_modes'] as const) {
        query.features = { ...query.features, [k]: [...new Set([...query.features[k], ...fromText.features[k]])] };
      }
    }
  } else if (fromText) query = fromText;
  else return null;
  if (req.excludeId) query.excludeId = req.excludeId;
  return query;
}

const hasText = (req: SearchRequest): req is SearchRequest & { query: string } => Boolean(req.query && req.query.trim());

/** Search in the store's own SQLite history. */
export function searchHistory(store: IncidentStore, req: SearchRequest): SimilarPast[] {
  const past = req.incidentId ? pastOfStored(store, req.incidentId) : null;
  const query = requestQuery(req, past, hasText(req) ? store.history.queryFromText(req.query) : null);
  return query ? store.history.search(query, req.filter ?? {}, req.limit ?? 5) : [];
}

/** Search in the history configured for the store (Postgres, Pinecone, or its own SQLite). */
export async function searchConfiguredHistory(store: IncidentStore, req: SearchRequest): Promise<SimilarPast[]> {
  const history = historyOf(store);
  const past = req.incidentId ? ((await history.get(req.incidentId)) ?? pastOfStored(store, req.incidentId)) : null;
  const query = requestQuery(req, past, hasText(req) ? await history.queryFromText(req.query) : null);
  return query ? history.search(query, req.filter ?? {}, req.limit ?? 5) : [];
}

/** Similar incidents of a fresh report (before it is stored), itself left out, from the configured history. */
export function similarToReport(store: IncidentStore, report: Report, limit = 5): Promise<SimilarPast[]> {
  return historyOf(store).search(queryFromIncident(pastFromReport(report)), {}, limit);
}

export function similarIncidentsOf(results: readonly SimilarPast[], limit = 3): SimilarIncident[] {
  return results.slice(0, limit).map((r) => ({ id: r.incident.id, title: r.incident.title, score: Number(r.score.toFixed(2)), why_similar: r.why_similar.join('; ') }));
}

/** Ticket state as read from the tracker: 'open', 'done', or null when it could not be read. */
export type TicketStatusReader = (ticket: { system: 'github' | 'jira' | 'other'; key: string; url: string | null }) => Promise<'open' | 'done' | null>;

/** "Seen before": the results above the threshold and their action items that are still open. */
export async function seenBeforeOf(results: readonly SimilarPast[], readStatus?: TicketStatusReader, threshold = SEEN_BEFORE_THRESHOLD): Promise<SeenBefore[]> {
  const out: SeenBefore[] = [];
  for (const r of results.filter((x) => x.score >= threshold).slice(0, 3)) {
    const open: SeenBefore['open_action_items'] = [];
    for (const item of r.incident.action_items) {
      let status: 'open' | 'done' | null = null;
      let from: SeenBefore['open_action_items'][number]['status_from'] = null;
      if (item.ticket && item.ticket.system !== 'other' && readStatus) {
        status = await readStatus(item.ticket).catch(() => null);
        if (status) from = item.ticket.system;
      }
      if (!status && item.status) {
        status = item.status;
        from = 'postmortem';
      }
      if (status === 'done') continue;
      open.push({ title: item.title, ticket: item.ticket && item.ticket.system !== 'other' ? item.ticket.key : null, url: item.ticket?.url ?? null, status: status ?? 'unknown', status_from: status ? from : null });
    }
    const entry: SeenBefore = { id: r.incident.id, title: r.incident.title, date: r.incident.date, score: Number(r.score.toFixed(2)), why_similar: r.why_similar, open_action_items: open };
    if (r.incident.url) entry.url = r.incident.url;
    out.push(entry);
  }
  return out;
}

/** similar_incidents and seen_before for a fresh report, to pass to buildReport (core stays pure). */
export async function historyReportOptions(store: IncidentStore, report: Report, readStatus?: TicketStatusReader): Promise<{ similar: SimilarIncident[]; seenBefore: SeenBefore[] }> {
  const results = await similarToReport(store, report, 5);
  return { similar: similarIncidentsOf(results), seenBefore: await seenBeforeOf(results, readStatus) };
}
