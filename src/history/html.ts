// HTML post-mortems (Confluence and Notion exports, any page) -> ParsedDoc, from htmlparser2's DOM.
import { parseDocument } from 'htmlparser2';
import { takeMetaLine, takeMetaTable, type DocBlock, type DocSection, type ParsedDoc } from './document.js';

interface Node {
  type: string;
  name?: string;
  data?: string;
  attribs?: Record<string, string>;
  children?: Node[];
}

const SKIP = new Set(['script', 'style', 'noscript', 'svg', 'nav', 'footer', 'iframe', 'template']);
const LISTS = new Set(['ul', 'ol', 'ac:task-list']);
const BLOCKS = new Set(['p', 'div', 'section', 'article', 'main', 'body', 'html', 'blockquote', 'header', 'figure', 'details', 'summary', 'dl', 'dt', 'dd', 'ac:rich-text-body', 'ac:structured-macro', 'ac:layout', 'ac:layout-section', 'ac:layout-cell', 'tbody', 'thead']);

function isTag(n: Node): boolean {
  return n.type === 'tag' || n.type === 'script' || n.type === 'style';
}

interface Collected {
  text: string;
  links: string[];
  code: string[];
}

/** The text under a node; nested lists left out when `skipLists`. */
function collect(node: Node, acc: Collected = { text: '', links: [], code: [] }, skipLists = false): Collected {
  for (const child of node.children ?? []) {
    if (child.type === 'text') acc.text += child.data ?? '';
    else if (child.type === 'cdata') collect(child, acc, skipLists);
    else if (isTag(child)) {
      const name = child.name!;
      if (SKIP.has(name) || (skipLists && LISTS.has(name)) || name === 'ac:task-status' || name === 'ac:task-id') continue;
      if (name === 'br') acc.text += '\n';
      else if (name === 'a' && child.attribs?.href) acc.links.push(child.attribs.href);
      else if (name === 'ri:url' && child.attribs?.['ri:value']) acc.links.push(child.attribs['ri:value']);
      if (name === 'code' || name === 'kbd') {
        const inner = collect(child);
        acc.code.push(inner.text);
        acc.text += inner.text;
        continue;
      }
      const block = BLOCKS.has(name) || /^h[1-6]$/.test(name) || name === 'li' || name === 'tr';
      if (block && acc.text && !acc.text.endsWith('\n')) acc.text += '\n';
      collect(child, acc, skipLists);
      if (block && !acc.text.endsWith('\n')) acc.text += '\n';
      else if (name === 'td' || name === 'th') acc.text += ' ';
    }
  }
  return acc;
}

function clean(text: string): string {
  return text.replace(/[ \t\u00a0]+/g, ' ').replace(/ *\n */g, '\n').replace(/\n{2,}/g, '\n').trim();
}

function find(node: Node, name: string): Node | null {
  for (const c of node.children ?? []) {
    if (c.name === name) return c;
    const deeper = isTag(c) ? find(c, name) : null;
    if (deeper) return deeper;
  }
  return null;
}

function checkedOf(li: Node): boolean | null {
  const status = find(li, 'ac:task-status');
  if (status) return /^\s*complete/i.test(collect(status).text);
  const input = find(li, 'input');
  if (input?.attribs?.type === 'checkbox') return 'checked' in input.attribs;
  const cls = li.attribs?.class ?? '';
  if (/checked|checkbox-on|done/.test(cls)) return true;
  const box = (li.children ?? []).find((c) => /checkbox/.test(c.attribs?.class ?? ''));
  if (box) return /checkbox-on|checked/.test(box.attribs?.class ?? '');
  if (/checkbox|task|to-do/.test(cls)) return false;
  return null;
}

export function parseHtml(source: string): ParsedDoc {
  const root = parseDocument(source, { xmlMode: false, decodeEntities: true }) as unknown as Node;
  const doc: ParsedDoc = { title: null, meta: {}, sections: [], code: [] };
  let section: DocSection = { heading: '', level: 0, blocks: [] };
  doc.sections.push(section);
  let pending: Collected = { text: '', links: [], code: [] };

  const push = (block: DocBlock, found: Pick<Collected, 'code'>) => {
    doc.code.push(...found.code);
    section.blocks.push(block);
  };
  const flush = () => {
    const lines = clean(pending.text).split('\n').filter((l) => l && !takeMetaLine(l, doc.meta));
    if (lines.length) push({ kind: 'text', text: lines.join('\n'), links: pending.links }, pending);
    else doc.code.push(...pending.code);
    pending = { text: '', links: [], code: [] };
  };

  const visitList = (list: Node) => {
    for (const li of list.children ?? []) {
      if (!isTag(li)) continue;
      if (li.name !== 'li' && li.name !== 'ac:task') {
        if (LISTS.has(li.name!)) visitList(li);
        continue;
      }
      const found = collect(li, undefined, true);
      const text = clean(li.name === 'ac:task' ? collect(find(li, 'ac:task-body') ?? li).text : found.text);
      if (text) push({ kind: 'item', text: text.replace(/\n/g, ' '), checked: checkedOf(li), links: found.links }, found);
      const walkNested = (n: Node) => {
        for (const c of n.children ?? []) {
          if (!isTag(c)) continue;
          if (LISTS.has(c.name!)) visitList(c);
          else walkNested(c);
        }
      };
      walkNested(li);
    }
  };

  const visitTable = (table: Node) => {
    const rows: Node[] = [];
    const gather = (n: Node) => {
      for (const c of n.children ?? []) {
        if (!isTag(c)) continue;
        if (c.name === 'tr') rows.push(c);
        else if (c.name !== 'table') gather(c);
      }
    };
    gather(table);
    const cellsOf = (tr: Node) => (tr.children ?? []).filter((c) => c.name === 'td' || c.name === 'th').map((c) => collect(c));
    if (rows.length === 0) return;
    const first = cellsOf(rows[0]!);
    const headed = (rows[0]!.children ?? []).some((c) => c.name === 'th') && !(rows[0]!.children ?? []).some((c) => c.name === 'td');
    const header = headed ? first.map((c) => clean(c.text)) : first.map((_, i) => `column ${i + 1}`);
    const body = (headed ? rows.slice(1) : rows).map(cellsOf);
    // key/value tables (Confluence "page properties") are metadata, whether or not they have a header row
    if (takeMetaTable(header, body.map((r) => r.map((c) => clean(c.text))), doc.meta)) return;
    if (!headed && takeMetaTable([clean(first[0]?.text ?? ''), clean(first[1]?.text ?? '')], body.slice(1).map((r) => r.map((c) => clean(c.text))), doc.meta)) return;
    for (const row of body) {
      const record: Record<string, string> = {};
      header.forEach((h, i) => (record[h] = clean(row[i]?.text ?? '')));
      const text = row.map((c) => clean(c.text)).join(' | ');
      push({ kind: 'row', text, cells: record, links: row.flatMap((c) => c.links) }, { code: row.flatMap((c) => c.code) });
    }
  };

  const visit = (node: Node) => {
    for (const child of node.children ?? []) {
      if (child.type === 'text') {
        pending.text += child.data ?? '';
        continue;
      }
      if (!isTag(child) && child.type !== 'root') continue;
      const name = child.name ?? '';
      if (name === 'head') {
        const title = find(child, 'title');
        if (title) doc.title ??= clean(collect(title).text) || null;
        continue;
      }
      if (SKIP.has(name)) continue;
      const heading = /^h([1-6])$/.exec(name);
      if (heading) {
        flush();
        const text = clean(collect(child).text).replace(/\n/g, ' ');
        if (heading[1] === '1' && (doc.title === null || doc.sections.length === 1)) doc.title = text;
        else if (text) {
          section = { heading: text, level: Number(heading[1]), blocks: [] };
          doc.sections.push(section);
        }
        continue;
      }
      if (LISTS.has(name)) {
        flush();
        visitList(child);
        continue;
      }
      if (name === 'table') {
        flush();
        visitTable(child);
        continue;
      }
      if (name === 'pre' || (name === 'ac:structured-macro' && child.attribs?.['ac:name'] === 'code')) {
        flush();
        section.blocks.push({ kind: 'code', text: collect(child).text.trim() });
        continue;
      }
      if (name === 'code') {
        const inner = collect(child).text;
        pending.code.push(inner);
        pending.text += inner;
        continue;
      }
      if (name === 'a' && child.attribs?.href) pending.links.push(child.attribs.href);
      if (name === 'br') {
        pending.text += '\n';
        continue;
      }
      const block = BLOCKS.has(name);
      if (block) flush();
      visit(child);
      if (block) flush();
    }
  };
  visit(root);
  flush();
  return doc;
}
