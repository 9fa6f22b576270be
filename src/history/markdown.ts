// Markdown post-mortems (Google SRE template, incident.io / Rootly / FireHydrant / Jeli exports,
// free form) -> ParsedDoc, from marked's lexer tokens.
import { marked, type Token, type Tokens } from 'marked';
import { takeMetaLine, takeMetaTable, type DocBlock, type DocSection, type ParsedDoc } from './document.js';

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&nbsp;': ' ' };

function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (m) => ENTITIES[m] ?? m);
}

interface Inline {
  text: string;
  links: string[];
  code: string[];
}

function inline(tokens: Token[] | undefined, acc: Inline = { text: '', links: [], code: [] }): Inline {
  for (const t of tokens ?? []) {
    switch (t.type) {
      case 'link':
        acc.links.push((t as Tokens.Link).href);
        inline((t as Tokens.Link).tokens, acc);
        break;
      case 'codespan':
        acc.code.push(decode((t as Tokens.Codespan).text));
        acc.text += decode((t as Tokens.Codespan).text);
        break;
      case 'br':
        acc.text += '\n';
        break;
      case 'checkbox':
        break;
      case 'image':
        acc.text += (t as Tokens.Image).text;
        break;
      default: {
        const withTokens = t as { tokens?: Token[]; text?: string };
        if (withTokens.tokens?.length) inline(withTokens.tokens, acc);
        else if (typeof withTokens.text === 'string') acc.text += decode(withTokens.text);
      }
    }
  }
  return acc;
}

function frontMatter(source: string): { body: string; meta: Record<string, string> } {
  const meta: Record<string, string> = {};
  if (!source.startsWith('---')) return { body: source, meta };
  const end = source.indexOf('\n---', 3);
  if (end < 0) return { body: source, meta };
  for (const line of source.slice(3, end).split('\n')) {
    const m = /^\s*([\w -]+?)\s*:\s*(.*)$/.exec(line);
    if (!m || !m[2]) continue;
    const value = m[2].replace(/^["'[]|["'\]]$/g, '').trim();
    takeMetaLine(`${m[1]}: ${value}`, meta);
  }
  return { body: source.slice(source.indexOf('\n', end + 1) + 1), meta };
}

export function parseMarkdown(source: string): ParsedDoc {
  const { body, meta } = frontMatter(source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n'));
  const doc: ParsedDoc = { title: null, meta, sections: [], code: [] };
  let section: DocSection = { heading: '', level: 0, blocks: [] };
  doc.sections.push(section);
  const startSection = (heading: string, level: number) => {
    section = { heading, level, blocks: [] };
    doc.sections.push(section);
  };
  const push = (block: DocBlock, found: Inline) => {
    doc.code.push(...found.code);
    section.blocks.push(block);
  };

  const visitList = (list: Tokens.List) => {
    for (const item of list.items) {
      const own = inline(item.tokens.filter((t) => t.type !== 'list'));
      push({ kind: 'item', text: own.text.trim(), checked: item.task ? Boolean(item.checked) : null, links: own.links }, own);
      for (const nested of item.tokens.filter((t): t is Tokens.List => t.type === 'list')) visitList(nested);
    }
  };

  const visit = (tokens: Token[]) => {
    for (const token of tokens) {
      switch (token.type) {
        case 'heading': {
          const h = token as Tokens.Heading;
          const text = inline(h.tokens).text.trim();
          if (h.depth === 1 && doc.title === null) {
            doc.title = text;
            section.heading = section.heading || '';
          } else startSection(text, h.depth);
          break;
        }
        case 'paragraph': {
          const p = token as Tokens.Paragraph;
          const only = p.tokens.length <= 2 && p.tokens[0]?.type === 'strong' && (p.tokens.length === 1 || /^[\s:]*$/.test((p.tokens[1] as { text?: string }).text ?? ''));
          const found = inline(p.tokens);
          // A paragraph that is only bold text ("**Root cause**") is a heading in many exports.
          if (only && found.text.trim().length <= 60) {
            startSection(found.text.replace(/:\s*$/, '').trim(), 4);
            break;
          }
          const rest = found.text.split('\n').filter((line) => !takeMetaLine(line, meta));
          if (rest.join('').trim()) push({ kind: 'text', text: rest.join('\n').trim(), links: found.links }, found);
          else doc.code.push(...found.code);
          break;
        }
        case 'list':
          visitList(token as Tokens.List);
          break;
        case 'table': {
          const t = token as Tokens.Table;
          const header = t.header.map((c) => inline(c.tokens).text.trim());
          const cells = t.rows.map((r) => r.map((c) => inline(c.tokens)));
          if (takeMetaTable(header, cells.map((r) => r.map((c) => c.text.trim())), meta)) break;
          for (const row of cells) {
            const record: Record<string, string> = {};
            header.forEach((h, i) => (record[h || `column ${i + 1}`] = row[i]?.text.trim() ?? ''));
            const found: Inline = { text: row.map((c) => c.text.trim()).join(' | '), links: row.flatMap((c) => c.links), code: row.flatMap((c) => c.code) };
            push({ kind: 'row', text: found.text, cells: record, links: found.links }, found);
          }
          break;
        }
        case 'code':
          section.blocks.push({ kind: 'code', text: (token as Tokens.Code).text });
          break;
        case 'blockquote':
          visit((token as Tokens.Blockquote).tokens);
          break;
        case 'html': {
          const text = (token as Tokens.HTML).text.replace(/<[^>]*>/g, ' ').trim();
          if (text) section.blocks.push({ kind: 'text', text });
          break;
        }
        default:
          break;
      }
    }
  };
  visit(marked.lexer(body, { gfm: true }));
  return doc;
}
