// `hindsight history import PATH…`: files and directories of past post-mortems into the history
// index. Idempotent by content hash; a file that cannot be read or parsed is reported and skipped.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { extractIncident } from './document.js';
import { parseHtml } from './html.js';
import { HistoryFormatError, parseJsonIncidents } from './json.js';
import { parseMarkdown } from './markdown.js';
import type { HistoryBackend } from './backend.js';
import type { HistoryIndex } from './sqliteIndex.js';
import type { PastIncident } from './types.js';

const KINDS: Record<string, 'markdown' | 'html' | 'json'> = {
  '.md': 'markdown', '.markdown': 'markdown', '.mdx': 'markdown', '.txt': 'markdown',
  '.html': 'html', '.htm': 'html', '.xhtml': 'html',
  '.json': 'json',
};

export interface ImportProblem {
  path: string;
  problem: string;
}

export interface ImportSummary {
  files: number;
  imported: number;
  updated: number;
  unchanged: number;
  failed: ImportProblem[];
  /** ids of the incidents imported or updated, in order */
  ids: string[];
}

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The post-mortem files under the given paths (directories walked, hidden entries skipped), sorted. */
export function postmortemFiles(paths: readonly string[], problems: ImportProblem[] = []): string[] {
  const out: string[] = [];
  const walk = (path: string, named: boolean) => {
    let st;
    try {
      st = statSync(path);
    } catch {
      problems.push({ path, problem: 'no such file or directory' });
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(path).sort()) if (!name.startsWith('.') && name !== 'node_modules') walk(join(path, name), false);
    } else if (KINDS[extname(path).toLowerCase()]) out.push(path);
    else if (named) problems.push({ path, problem: `not a post-mortem file (expected ${Object.keys(KINDS).join(', ')})` });
  };
  for (const p of paths) walk(p, true);
  return out;
}

/**
 * The incidents one file holds; throws HistoryFormatError (or a parser error) when it holds none.
 * A document that names no id gets one from its path, so editing it and importing again updates it.
 */
export function parsePostmortem(path: string, text: string): PastIncident[] {
  const kind = KINDS[extname(path).toLowerCase()];
  const where = resolve(path);
  if (kind === 'json') return parseJsonIncidents(text, (i) => `pm-${contentHash(`${where}#${i}`).slice(0, 12)}`);
  if (text.trim() === '') throw new HistoryFormatError('empty file');
  const doc = kind === 'html' ? parseHtml(text) : parseMarkdown(text);
  const incident = extractIncident(doc, { origin: kind === 'html' ? 'html' : 'markdown', fallbackId: `pm-${contentHash(where).slice(0, 12)}` });
  if (!incident.title || (!incident.summary && !incident.root_cause && incident.action_items.length === 0 && incident.body.length < 40)) {
    throw new HistoryFormatError('no post-mortem content found (no title, summary, root cause or action items)');
  }
  return [incident];
}

/** Files per transaction: one commit (and fsync) per batch rather than per document. */
const BATCH = 500;

export function importPaths(index: HistoryIndex, paths: readonly string[], now: Date = new Date()): ImportSummary {
  const summary: ImportSummary = { files: 0, imported: 0, updated: 0, unchanged: 0, failed: [], ids: [] };
  const files = postmortemFiles(paths, summary.failed);
  for (let start = 0; start < files.length; start += BATCH) {
    index.batch(() => {
      for (const path of files.slice(start, start + BATCH)) importFile(index, path, summary, now);
    });
  }
  return summary;
}

function importFile(index: HistoryIndex, path: string, summary: ImportSummary, now: Date): void {
  summary.files++;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    summary.failed.push({ path, problem: (err as NodeJS.ErrnoException).code ?? 'unreadable' });
    return;
  }
  const hash = contentHash(text);
  if (index.hasContent(hash)) {
    summary.unchanged++;
    return;
  }
  let incidents: PastIncident[];
  try {
    incidents = parsePostmortem(path, text);
  } catch (err) {
    summary.failed.push({ path, problem: (err as Error).message.split('\n')[0]!.slice(0, 300) });
    return;
  }
  incidents.forEach((incident, i) => {
    const result = index.upsert(incident, incidents.length === 1 ? hash : `${hash}:${i}`, path, now);
    if (result === 'unchanged') summary.unchanged++;
    else {
      summary[result]++;
      summary.ids.push(incident.id);
    }
  });
}

/** importPaths into any history backend (Postgres, Pinecone, SQLite): one read, parse and upsert round per batch. */
export async function importPathsInto(history: HistoryBackend, paths: readonly string[], now: Date = new Date()): Promise<ImportSummary> {
  const summary: ImportSummary = { files: 0, imported: 0, updated: 0, unchanged: 0, failed: [], ids: [] };
  const files = postmortemFiles(paths, summary.failed);
  const seen = new Set<string>();
  for (let start = 0; start < files.length; start += BATCH) {
    const read: Array<{ path: string; text: string; hash: string }> = [];
    for (const path of files.slice(start, start + BATCH)) {
      summary.files++;
      try {
        const text = readFileSync(path, 'utf8');
        read.push({ path, text, hash: contentHash(text) });
      } catch (err) {
        summary.failed.push({ path, problem: (err as NodeJS.ErrnoException).code ?? 'unreadable' });
      }
    }
    const known = await history.knownContent(read.map((r) => r.hash));
    const items: Array<{ incident: PastIncident; contentHash: string; source: string }> = [];
    for (const { path, text, hash } of read) {
      if (known.has(hash) || seen.has(hash)) {
        summary.unchanged++;
        continue;
      }
      seen.add(hash);
      let incidents: PastIncident[];
      try {
        incidents = parsePostmortem(path, text);
      } catch (err) {
        summary.failed.push({ path, problem: (err as Error).message.split('\n')[0]!.slice(0, 300) });
        continue;
      }
      incidents.forEach((incident, i) => items.push({ incident, contentHash: incidents.length === 1 ? hash : `${hash}:${i}`, source: path }));
    }
    const results = await history.upsertMany(items, now);
    results.forEach((result, i) => {
      if (result === 'unchanged') summary.unchanged++;
      else {
        summary[result]++;
        summary.ids.push(items[i]!.incident.id);
      }
    });
  }
  return summary;
}
