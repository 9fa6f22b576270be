// Pull: resolved PagerDuty incidents and closed Opsgenie alerts since a durable checkpoint, with
// an overlap so nothing at the boundary is missed (the store ignores what it already has).
import type { HarvestConfig } from '../harvest/config.js';
import { listAll as listOpsgenie } from '../harvest/sources/opsgenie.js';
import { get as getPagerDuty, type Query } from '../harvest/sources/pagerduty.js';
import type { WatchStore } from './watchStore.js';

interface PdIncident {
  id: string;
  title?: string;
  status?: string;
  resolved_at?: string | null;
  last_status_change_at?: string;
  created_at?: string;
  service?: { id?: string; summary?: string };
  teams?: Array<{ id?: string; summary?: string }>;
}

interface OgAlert {
  id: string;
  tinyId?: string;
  message?: string;
  status?: string;
  updatedAt?: string;
  createdAt?: string;
  tags?: string[];
  details?: Record<string, string>;
}

const MAX_LOOKBACK_MS = 7 * 24 * 3600_000;
const PAGE = 100;

function wanted(config: HarvestConfig, service: { id?: string; summary?: string } | null | undefined): boolean {
  const services = config.autonomous.watch.services;
  if (services.length === 0) return true;
  return !!service && (services.includes(service.summary ?? '') || services.includes(service.id ?? ''));
}

/** Returns how many new incidents were queued. */
export async function pollPagerDuty(config: HarvestConfig, store: WatchStore, now = Date.now()): Promise<number> {
  const creds = config.credentials.pagerduty;
  if (!creds) return 0;
  const last = await store.checkpoint('pagerduty');
  const cutoff = last ? Date.parse(last) - config.autonomous.watch.overlapMs : now - config.autonomous.watch.overlapMs - config.autonomous.watch.intervalMs * 2;
  const query: Array<[string, string]> = [
    ['statuses[]', 'resolved'],
    ['since', new Date(now - MAX_LOOKBACK_MS).toISOString()],
    ['until', new Date(now + 60_000).toISOString()],
    ['sort_by', 'resolved_at:desc'],
    ['time_zone', 'UTC'],
  ];
  for (const team of config.autonomous.watch.teams) query.push(['team_ids[]', team]);
  let queued = 0;
  let newest = last ? Date.parse(last) : 0;
  for (let offset = 0; offset < 10_000; offset += PAGE) {
    const page = await getPagerDuty<{ incidents?: PdIncident[]; more?: boolean }>(creds, '/incidents', [...query, ['limit', String(PAGE)], ['offset', String(offset)]] as Query, config.http);
    const incidents = page.incidents ?? [];
    let older = false;
    for (const inc of incidents) {
      const resolvedAt = inc.resolved_at ?? inc.last_status_change_at ?? null;
      const resolvedMs = resolvedAt ? Date.parse(resolvedAt) : Number.NaN;
      if (Number.isFinite(resolvedMs) && resolvedMs < cutoff) {
        older = true;
        continue;
      }
      if (inc.status && inc.status !== 'resolved') continue;
      if (!wanted(config, inc.service)) continue;
      if (await store.enqueue({ id: inc.id, source: 'pagerduty', service: inc.service?.summary ?? null, title: inc.title ?? inc.id, resolvedAt })) queued++;
      if (Number.isFinite(resolvedMs)) newest = Math.max(newest, resolvedMs);
    }
    if (older || page.more !== true || incidents.length === 0) break;
  }
  if (newest > 0) await store.setCheckpoint('pagerduty', new Date(newest).toISOString());
  return queued;
}

export async function pollOpsgenie(config: HarvestConfig, store: WatchStore, now = Date.now()): Promise<number> {
  const creds = config.credentials.opsgenie;
  if (!creds) return 0;
  const last = await store.checkpoint('opsgenie');
  const cutoff = last ? Date.parse(last) - config.autonomous.watch.overlapMs : now - config.autonomous.watch.overlapMs - config.autonomous.watch.intervalMs * 2;
  const q = encodeURIComponent(`status:closed AND updatedAt >= ${Math.floor(cutoff)}`);
  const first = `${creds.apiUrl.replace(/\/+$/, '')}/v2/alerts?query=${q}&sort=updatedAt&order=desc&limit=${PAGE}`;
  const { items } = await listOpsgenie<OgAlert>(creds, first, 1000, config.http);
  let queued = 0;
  let newest = last ? Date.parse(last) : 0;
  for (const a of items) {
    const closedMs = a.updatedAt ? Date.parse(a.updatedAt) : Number.NaN;
    if (a.status !== 'closed' || (Number.isFinite(closedMs) && closedMs < cutoff)) continue;
    const service = a.tags?.find((t) => t.startsWith('service:'))?.slice(8) ?? a.details?.service ?? null;
    if (!wanted(config, service ? { summary: service } : null)) continue;
    if (await store.enqueue({ id: a.id, source: 'opsgenie', service, title: a.message ?? a.id, resolvedAt: a.updatedAt ?? null })) queued++;
    if (Number.isFinite(closedMs)) newest = Math.max(newest, closedMs);
  }
  if (newest > 0) await store.setCheckpoint('opsgenie', new Date(newest).toISOString());
  return queued;
}
