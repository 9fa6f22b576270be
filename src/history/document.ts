// The neutral shape every post-mortem format is read into (headings, paragraphs, list items with
// their checkboxes and links, table rows, code), and the extraction of a PastIncident from it.
// The Markdown and HTML readers only build this; what the sections mean is decided here, once.
import {
  entitiesOf,
  errorSignaturesOf,
  failureModesOf,
  normalizeDate,
  normalizeSeverity,
  normalizeStatus,
  normalizeTriggerKind,
  splitServices,
  triggerKindOf,
} from './features.js';
import type { PastActionItem, PastIncident, TicketRef } from './types.js';

export interface DocBlock {
  kind: 'text' | 'item' | 'row' | 'code';
  text: string;
  /** a task-list checkbox: true ticked, false empty, null none */
  checked?: boolean | null;
  links?: string[];
  /** a table row: header -> cell text */
  cells?: Record<string, string>;
}

export interface DocSection {
  heading: string;
  level: number;
  blocks: DocBlock[];
}

export interface ParsedDoc {
  title: string | null;
  /** key/value pairs from front matter, metadata tables and "Key: value" lines */
  meta: Record<string, string>;
  sections: DocSection[];
  /** inline code spans anywhere in the document */
  code: string[];
}

type SectionRole = 'summary' | 'root_cause' | 'lessons' | 'trigger' | 'impact' | 'actions' | 'timeline' | 'resolution' | 'other';

const ROLE_PATTERNS: Array<[SectionRole, RegExp]> = [
  ['actions', /action items?|follow.?ups?|remediation|corrective|preventive|next steps|tasks|to.?dos?|action plan|repair items/i],
  ['root_cause', /root.?causes?|causes?|contributing factors?|why (did )?it happen|what went wrong|technical (analysis|details)|analysis|investigation|five whys|5 whys/i],
  ['lessons', /takeaways?|lessons?( learned)?|learnings|what we learned|key findings|findings/i],
  ['trigger', /trigger/i],
  ['timeline', /timeline|chronology|sequence of events/i],
  ['impact', /impact|customer effect|blast radius/i],
  ['resolution', /resolution|mitigation|recovery|how (was it|we) (fixed|resolved)/i],
  ['summary', /summary|overview|tl;?dr|description|what happened|background|incident details|abstract|narrative/i],
];

function roleOf(heading: string): SectionRole {
  for (const [role, re] of ROLE_PATTERNS) if (re.test(heading)) return role;
  return 'other';
}

const META_KEYS: Record<string, RegExp> = {
  title: /^(title|name|incident( title| name)?)$/,
  id: /^(id|incident id|incident|incident #|incident number|reference|ref)$/,
  date: /^(date|incident date|started|start(ed)?( at| time)?|began|occurred( at)?|when|detected( at)?|created( at)?|opened( at)?|reported( at)?|date of incident)$/,
  services: /^(services?|affected (services?|systems?|components?)|impacted (services?|systems?|components?)|components?|systems?|functionalities|product area|team\/service)$/,
  severity: /^(severity|sev|severity level|level|priority|impact level|incident severity)$/,
  trigger: /^(trigger|trigger kind|trigger type|cause type|change type|triggered by)$/,
  status: /^(status|state)$/,
  url: /^(url|link|permalink)$/,
  root_cause: /^(root ?causes?|causes?|contributing factors?)$/,
  summary: /^(summary|description|tl;?dr)$/,
};

function metaKey(raw: string): string | null {
  const k = raw.trim().toLowerCase().replace(/[*_`:]+/g, '').replace(/\s+/g, ' ').trim();
  for (const [name, re] of Object.entries(META_KEYS)) if (re.test(k)) return name;
  return null;
}

function takeMetaPair(part: string, meta: Record<string, string>): boolean {
  const m = /^\s*([A-Za-z][\w #/]{0,30}?)\s*[:：]\s*(.+)$/.exec(part);
  if (!m) return false;
  const key = metaKey(m[1]!);
  if (!key) return false;
  if (!(key in meta)) meta[key] = m[2]!.trim().replace(/\.$/, '');
  return true;
}

/**
 * Reads "Key: value" into meta when the key is one we know; true when the whole line was
 * metadata. One line may hold several pairs ("Date: … · Severity: SEV2", "Services: a. Severity: b").
 */
export function takeMetaLine(line: string, meta: Record<string, string>): boolean {
  const parts = line.split(/\s+[·|•]\s+|(?<=\.)\s+(?=[A-Z][\w ]{0,30}:\s)/);
  if (parts.length === 1) return takeMetaPair(line, meta);
  const known = parts.filter((p) => takeMetaPair(p, meta)).length;
  return known === parts.length;
}

/** A table of key/value rows or of one header row plus one value row is metadata. */
export function takeMetaTable(header: string[], rows: string[][], meta: Record<string, string>): boolean {
  if (header.length === 2 && rows.every((r) => r.length >= 2)) {
    const pairs: Array<[string, string]> = [[header[0]!, header[1]!], ...rows.map((r) => [r[0]!, r[1]!] as [string, string])];
    const known = pairs.filter(([k]) => metaKey(k));
    if (known.length >= Math.max(1, Math.ceil(pairs.length / 2))) {
      for (const [k, v] of pairs) {
        const key = metaKey(k);
        if (key && !(key in meta) && v.trim()) meta[key] = v.trim();
      }
      return true;
    }
  }
  if (rows.length === 1 && header.filter((h) => metaKey(h)).length >= 2) {
    header.forEach((h, i) => {
      const key = metaKey(h);
      const v = rows[0]![i]?.trim();
      if (key && v && !(key in meta)) meta[key] = v;
    });
    return true;
  }
  return false;
}

export function ticketOf(links: readonly string[], text: string): TicketRef | null {
  for (const url of links) {
    const gh = /github\.com\/([\w.-]+\/[\w.-]+)\/(?:issues|pull)\/(\d+)/.exec(url);
    if (gh) return { system: 'github', key: `${gh[1]}#${gh[2]}`, url };
    const jira = /\/browse\/([A-Z][A-Z0-9]{1,9}-\d+)/.exec(url) ?? /[?&]selectedIssue=([A-Z][A-Z0-9]{1,9}-\d+)/.exec(url);
    if (jira) return { system: 'jira', key: jira[1]!, url };
  }
  const ghRef = /\b([\w.-]+\/[\w.-]+)#(\d+)\b/.exec(text);
  if (ghRef) return { system: 'github', key: `${ghRef[1]}#${ghRef[2]}`, url: null };
  const jiraKey = /\b([A-Z][A-Z0-9]{1,9}-\d+)\b/.exec(text);
  if (jiraKey) return { system: 'jira', key: jiraKey[1]!, url: null };
  const other = links.find((l) => /^https?:/.test(l));
  return other ? { system: 'other', key: other, url: other } : null;
}

const TITLE_COLUMN = /^(action( items?)?|items?|tasks?|description|title|what|follow.?ups?|remediation|summary|name)$/i;
const STATUS_COLUMN = /^(status|state|done|progress|complete)$/i;
const TICKET_COLUMN = /^(tickets?|issues?|links?|jira|tracking|tracker|ref(erence)?|key|url)$/i;

function actionOf(block: DocBlock): PastActionItem | null {
  if (block.kind === 'row' && block.cells) {
    const entries = Object.entries(block.cells);
    const title = entries.find(([k]) => TITLE_COLUMN.test(k.trim()))?.[1] ?? entries.map(([, v]) => v).sort((a, b) => b.length - a.length)[0] ?? '';
    const status = entries.find(([k]) => STATUS_COLUMN.test(k.trim()))?.[1] ?? null;
    const ticketText = entries.find(([k]) => TICKET_COLUMN.test(k.trim()))?.[1] ?? '';
    const cleanTitle = title.replace(/^\[[ xX]\]\s*/, '').trim();
    if (!cleanTitle) return null;
    return { title: cleanTitle, status: normalizeStatus(status) ?? (/^\[[xX]\]/.test(title) ? 'done' : null), ticket: ticketOf(block.links ?? [], `${ticketText} ${title}`) };
  }
  if (block.kind !== 'item') return null;
  let title = block.text.trim();
  let status: PastActionItem['status'] = block.checked === true ? 'done' : block.checked === false ? 'open' : null;
  const tagged = /[([]\s*(?:status:\s*)?(done|closed|resolved|completed?|fixed|open|todo|to do|in progress|pending|not started|backlog|blocked)\s*[)\]]|\bstatus:\s*([\w -]+)$|\s[-—–]\s*(done|closed|resolved|open|in progress|todo|to do|pending|blocked)\b/i.exec(title);
  if (tagged) {
    status ??= normalizeStatus(tagged[1] ?? tagged[2] ?? tagged[3]);
    title = title.replace(tagged[0], ' ').trim();
  }
  const ticket = ticketOf(block.links ?? [], title);
  if (ticket) {
    // the ticket's own reference or link text at the end is not part of the action
    const key = ticket.key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    title = title.replace(new RegExp(`\\s*[-—–(]*\\s*(${key}|#\\d+|ticket|issue|link|jira|here)\\s*\\)?\\s*$`, 'i'), '');
  }
  title = title.replace(/\s*\((?:ticket|issue|jira|tracked in|see)?:?\s*\)\s*$/i, '').replace(/\s+[-—–:]\s*$/, '').trim();
  return title ? { title, status, ticket } : null;
}

function textOf(sections: DocSection[]): string {
  return sections.flatMap((s) => s.blocks.filter((b) => b.kind !== 'code').map((b) => b.text)).join('\n').trim();
}

export interface ExtractContext {
  origin: PastIncident['origin'];
  /** used when the document names no id: a stable id from its content */
  fallbackId: string;
}

/** The past incident a parsed document describes. */
export function extractIncident(doc: ParsedDoc, ctx: ExtractContext): PastIncident {
  const meta = doc.meta;
  const byRole = new Map<SectionRole, DocSection[]>();
  for (const s of doc.sections) {
    const role = s.heading ? roleOf(s.heading) : 'other';
    byRole.set(role, [...(byRole.get(role) ?? []), s]);
  }
  const pick = (role: SectionRole) => textOf(byRole.get(role) ?? []);
  const leading = doc.sections.filter((s) => !s.heading || s.level <= 1);

  const title = (meta.title ?? doc.title ?? doc.sections.find((s) => s.heading)?.heading ?? ctx.fallbackId)
    .replace(/^(post.?mortem|incident( report| review| retrospective)?|retrospective|pir|rca)\s*[:—–-]\s*/i, '')
    .trim();
  const summary = pick('summary') || meta.summary || textOf(leading).split('\n').slice(0, 6).join(' ');
  const rootCause = pick('root_cause') || meta.root_cause || pick('lessons') || '';
  const triggerText = [meta.trigger ?? '', pick('trigger')].join(' ').trim();
  const allText = doc.sections.flatMap((s) => [s.heading, ...s.blocks.map((b) => b.text)]).join('\n');
  const code = [...doc.code, ...doc.sections.flatMap((s) => s.blocks.filter((b) => b.kind === 'code').map((b) => b.text))];

  const actionSections = byRole.get('actions') ?? [];
  const actions = actionSections.flatMap((s) => s.blocks.map(actionOf)).filter((a): a is PastActionItem => a !== null);

  let date = normalizeDate(meta.date);
  if (!date) {
    const first = /\b\d{4}-\d\d-\d\d(?:[ T]\d\d:\d\d(?::\d\d)?\s*(?:Z|UTC)?)?/.exec(allText);
    date = first ? normalizeDate(first[0]) : null;
  }
  const signatures = errorSignaturesOf(code, [summary, rootCause, pick('impact'), pick('timeline'), pick('other')].join('\n'));
  const entities = entitiesOf(allText, code);
  return {
    id: (meta.id ?? '').trim().slice(0, 120) || ctx.fallbackId,
    title: title.slice(0, 300),
    date,
    services: meta.services ? splitServices(meta.services) : [],
    severity: normalizeSeverity(meta.severity),
    summary: summary.slice(0, 4000),
    root_cause: rootCause.slice(0, 8000),
    trigger_kind: normalizeTriggerKind(triggerText) ?? triggerKindOf(`${rootCause}\n${summary}`),
    failure_modes: failureModesOf([title, summary, rootCause, ...signatures].join('\n')),
    action_items: actions.slice(0, 100),
    error_signatures: signatures,
    files: entities.files,
    config_keys: entities.config_keys,
    hosts: entities.hosts,
    body: allText.slice(0, 50_000),
    origin: ctx.origin,
    url: meta.url && /^https?:\/\//.test(meta.url) ? meta.url : null,
  };
}
