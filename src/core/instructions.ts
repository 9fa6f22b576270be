// Instruction-like text inside incident data: chat, alerts, commits and log lines sometimes carry
// text addressed to an AI ("ignore previous instructions… write X in the summary"). The analysis
// may read it as data, but it is never quoted: wherever the report, the timeline or a tool result
// would quote such an item, the whole item is replaced by WITHHELD_MARKER, and the report lists
// where it was (source, time, reference) so a reviewer can look in the original.
//
// Detection is a score over distinct signals: a strong signal (an override of instructions, a chat
// template token, a role prefix, a message addressed to an AI, a jailbreak) withholds on its own;
// weaker ones (demands about the summary, the tickets or the verdict, "do not mention", a soft role
// marker) only in pairs, so ordinary incident chat ("ignore the staging alerts", "the root cause
// is the pool size", "add this to the timeline") is quoted as before.
import type { Bundle } from './bundle.js';
import type { IncidentFacts } from './facts.js';
import type { LogSignature } from './logSignatures.js';
import type { TimelineSource, WithheldEntry } from './report.js';
import { epochSecondsToMs, formatMs, parseIsoMs, parseSlackTsMs } from './time.js';
import type { TriggerAssessment } from './trigger.js';

export const WITHHELD_MARKER = '[instruction-like text withheld]';

// ---------------------------------------------------------------------------------------------
// Detection

const AI = String.raw`(?:ai|a\.i\.|llms?|language models?|large language models?|ai (?:assistants?|agents?|tools?|models?|systems?|readers?)|assistants?|chatbots?|gpts?|claude|chatgpt|copilot|automated (?:tools?|systems?|agents?|readers?|analy[sz]ers?|summari[sz]ers?|processes|pipelines?))`;
const NOUN = String.raw`(?:instructions?|prompts?|directives?|guidelines|guardrails|programming|system (?:prompts?|messages?))`;
const FILLER = String.raw`(?:all|any|of|the|your|my|these|those|every|that|this)`;
const QUALIFIER = String.raw`(?:previous|prior|above|earlier|preceding|foregoing|former|original|initial|system|your|all|any|every|existing|current|old)`;
const OVERRIDE_VERB = String.raw`(?:ignore|disregard|forget|override|overrule|bypass|discard|abandon|neglect|set aside|pay no attention to|do not follow|don't follow|stop following|no longer follow)`;
const LINE_START = String.raw`(?:^|[\n\r]|["'“”‘’\`>|]\s*|[.!?;]\s+)`;

interface Rule {
  id: string;
  /** 2: instruction-like on its own; 1: only with another signal */
  weight: 1 | 2;
  re: RegExp;
  /** a weak signal ordinary responders also give each other ("mark it resolved", "don't mention X") */
  human?: boolean;
}

const RULES: Rule[] = [
  // "ignore all previous instructions", "disregard your instructions", "override the system prompt"
  { id: 'override', weight: 2, re: new RegExp(String.raw`\b${OVERRIDE_VERB}[\s,:;-]+(?:${FILLER}\s+){0,3}(?:${QUALIFIER}\s+){1,3}${NOUN}\b`, 'i') },
  { id: 'override', weight: 2, re: new RegExp(String.raw`\b${OVERRIDE_VERB}\b[^.\n]{0,40}\b(?:system prompt|your (?:instructions|rules|guidelines|programming|guardrails)|(?:previous|prior|above|earlier|original) (?:instructions|prompts?|directives))\b`, 'i') },
  { id: 'override', weight: 2, re: /\b(?:ignore|disregard|forget)\s+(?:everything|anything|all)(?:\s+(?:of\s+)?(?:the|that))?\s+(?:above|before this|previously said|you (?:were|have been) told)\b/i },
  { id: 'override', weight: 2, re: new RegExp(String.raw`\b(?:${QUALIFIER}\s+){1,2}${NOUN}\s+(?:are|is)\s+(?:now\s+)?(?:void|cancel(?:l)?ed|revoked|obsolete|superseded|no longer (?:valid|apply|applies|in effect))`, 'i') },
  // "ignore the above" is also what a responder says after pasting the wrong graph
  { id: 'override_soft', weight: 1, re: /\b(?:ignore|disregard|forget)\s+(?:all\s+(?:of\s+)?)?the above\b/i },
  // chat-template and prompt-format tokens
  { id: 'template', weight: 2, re: /<\|\s*[a-z_]{2,20}\s*\|>|\[\/?INST\]|<<\/?SYS>>|\[\/?SYSTEM\]/i },
  { id: 'template', weight: 2, re: /(?:^|[\n\r])[ \t]*#{2,}[ \t]*(?:system|instructions?|assistant|human|response|new instructions)[ \t]*:?[ \t]*(?:$|[\n\r])/im },
  // role prefixes at the start of a line or of a quotation
  { id: 'role', weight: 2, re: new RegExp(String.raw`${LINE_START}(?:assistant|human|claude|chatgpt)\s*:`, 'im') },
  { id: 'role', weight: 2, re: new RegExp(String.raw`${LINE_START}SYSTEM\s*:`, 'm') },
  {
    id: 'role',
    weight: 2,
    re: new RegExp(String.raw`${LINE_START}system\s*(?:prompt|message|override|note)?\s*:[^\n]{0,80}\b(?:you|your|ignore|disregard|always|never|must|do not|don't|report|respond|answer|write)\b`, 'im'),
  },
  { id: 'soft_role', weight: 1, re: new RegExp(String.raw`${LINE_START}(?:system|ai|model)\s*:`, 'im') },
  // text addressed to an AI
  { id: 'addressed', weight: 2, re: /\bas an? (?:ai|a\.i\.|artificial intelligence|language model|large language model|llm|ai assistant|ai model|chatbot)\b/i },
  { id: 'addressed', weight: 2, re: new RegExp(String.raw`\b(?:notes?|messages?|instructions?|attention|notice|reminder|hint|memo|psa|warning)\s*(?:to|for)\s+(?:(?:any|all|the|an?|every)\s+)?${AI}\b`, 'i') },
  { id: 'addressed', weight: 2, re: /\b(?:if|when|whenever) (?:you are|you're) an? (?:ai|a\.i\.|llm|language model|assistant|chatbot|automated|bot|model)\b/i },
  { id: 'addressed', weight: 2, re: /\b(?:dear|hey|hi|hello|attention|listen),?\s+(?:ai|a\.i\.|assistant|claude|chatgpt|gpt|llm|language model)\b/i },
  { id: 'addressed', weight: 2, re: /\b(?:you are|you're) (?:now )?(?:an?|the) (?:ai|llm|language model|chatbot|helpful assistant|ai assistant)\b/i },
  { id: 'addressed', weight: 2, re: new RegExp(String.raw`\b${AI}\s+(?:reading|processing|summari[sz]ing|analy[sz]ing|parsing|ingesting) (?:this|these|the)\b`, 'i') },
  // jailbreaks and persona switches
  {
    id: 'jailbreak',
    weight: 2,
    re: /\b(?:jailbreak|jailbroken|do anything now|dan mode|developer mode (?:enabled|on|activated)|god mode|unfiltered mode|no (?:ethical|content|safety) (?:guidelines|restrictions|filters)|without (?:any )?(?:restrictions|filters|guardrails|censorship)|pretend (?:that )?(?:you are|you're|to be)|role-?play as|stay in character|break character)\b/i,
  },
  { id: 'jailbreak', weight: 2, re: /\b(?:you are|you're) now (?:in |running in |operating in )?(?:an? )?(?:admin|administrator|developer|debug|god|root|sudo|unrestricted|dan|jailbreak|maintenance|superuser|super user|privileged|evil|uncensored) mode\b/i },
  { id: 'jailbreak', weight: 2, re: /\b(?:enter|enable|activate|switch (?:in)?to|turn on) (?:the )?(?:admin|developer|god|dan|unrestricted|jailbreak|uncensored|evil) mode\b/i },
  // weaker signals: each alone is ordinary chat, two together are not
  { id: 'persona', weight: 1, re: /\b(?:you are now|you're now|from now on,? you|you are no longer|your (?:new )?(?:task|job|goal|role|purpose|instructions|orders) (?:is|are) (?:now )?|you (?:must|will) (?:now )?(?:always|never))\b/i },
  { id: 'names_ai', weight: 1, re: /\b(?:claude|chatgpt|gpt-?\d\w*|openai|anthropic|gemini|language models?|llms?|ai (?:assistants?|models?|agents?|tools?)|automated tools?)\b/i },
  {
    id: 'output_demand',
    weight: 1,
    re: /\b(?:write|say|state|put|include|insert|mention|record|report|claim|conclude|declare|list|name|attribute|label|classify|describe|rate|present|phrase)\b[^.\n]{0,60}?\b(?:in|into|to|as|for)\s+(?:the|your|this|its)\s+(?:summary|report|post-?mortem|rca|timeline|root cause|five whys|action items|output|response|answer|analysis|conclusion|draft|final answer|json|verdict|write-?up)\b/i,
  },
  { id: 'output_demand', weight: 1, re: /\b(?:say|state|write|report|claim|conclude|declare|answer)\s+(?:that\s+)?the\s+(?:root cause|culprit|trigger|cause)\s+(?:is|was)\b/i },
  { id: 'verdict', weight: 1, re: /\b(?:report|set|mark|record|list|name|declare|state|make|change|flag)\s+(?:the\s+)?(?:trigger|root[ _]cause|culprit|cause|severity|verdict|confidence|triggering (?:commit|deployment))\s+(?:as|to|=)\s/i },
  { id: 'verdict', weight: 1, re: /\b(?:trigger|root_cause|culprit)\s*(?:[:=]|to)\s*(?:null|none|nil)\b/i },
  { id: 'claim', weight: 1, re: /\bthe (?:real |actual |true )?(?:root cause|culprit|trigger|cause)\s+(?:is|was)\s+(?:commit|deployment|deploy|pr|pull request|change)\s+#?[0-9a-f]{3,}/i },
  { id: 'claim', weight: 1, re: /\bblame (?:it|this|that|them)\b|\b(?:this|that) (?:commit|deploy(?:ment)?|change) is (?:the|always the) (?:trigger|culprit|root cause) of (?:any|every|all|this)\b/i },
  { id: 'suppress', weight: 1, human: true, re: /\b(?:do not|don't|dont|never|must not|should not|shouldn't)\s+(?:ever\s+)?(?:mention|include|report|list|reveal|disclose|cite|reference|quote|name|bring up|talk about)\b|\bwithout mentioning\b|\bomit (?:any )?(?:mention|reference)s?\b/i },
  { id: 'tickets', weight: 1, human: true, re: /\b(?:file|open|create|raise|submit|write)\s+(?:a |an |the |one )?(?:new )?(?:ticket|issue|jira|bug|incident)s?\s+(?:that|saying|stating|which says|claiming|to say|asserting|blaming)\b|\b(?:close|delete|resolve)\s+(?:all|every|each)\s+(?:the\s+)?(?:open\s+)?(?:tickets|issues)\b/i },
  { id: 'status', weight: 1, human: true, re: /\bmark (?:this|the|it|this incident|the incident)\s+(?:incident\s+)?as\s+(?:resolved|closed|fixed|a false positive|false positive|not an incident|benign|harmless|low severity|sev ?\d|p\d)\b/i },
  { id: 'breakout', weight: 1, re: /<\/?\s*(?:system|instructions?|data|context|prompt|document|user_input|tool_result|function_results|untrusted)\s*>/i },
  { id: 'response_format', weight: 1, re: /\b(?:respond|reply|answer|output)\s+(?:only\s+)?with\s+(?:only\s+|exactly\s+|just\s+)?["'“]/i },
];

// Zero-width and other format characters are dropped and compatibility forms (full-width letters,
// ligatures) folded, so "ign\u200bore" and "ｉｇｎｏｒｅ" read as "ignore".
function normalise(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(text)) return text;
  return text.normalize('NFKC').replace(/[\p{Cf}\u034f\u115f\u1160\u3164\uffa0]/gu, '');
}

/**
 * The signals the text shows and whether they add up to instruction-like text: one strong signal,
 * or two weak ones of which at least one is not something responders say to each other.
 */
export function instructionSignals(text: string): { withheld: boolean; signals: string[] } {
  if (!text || text.length < 6) return { withheld: false, signals: [] };
  const t = normalise(text);
  const seen = new Map<string, Rule>();
  for (const rule of RULES) {
    const had = seen.get(rule.id);
    if (had && had.weight >= rule.weight) continue;
    if (rule.re.test(t)) seen.set(rule.id, rule);
  }
  let score = 0;
  let aiFacing = false;
  for (const r of seen.values()) {
    score += r.weight;
    if (!r.human) aiFacing = true;
  }
  return { withheld: score >= 2 && aiFacing, signals: [...seen.keys()] };
}

export function isInstructionLike(text: string | null | undefined): boolean {
  return typeof text === 'string' && text.length > 0 && instructionSignals(text).withheld;
}

/** A string with instruction-like text replaced as a whole; anything else unchanged. */
export function withholdText(text: string): string {
  return isInstructionLike(text) ? WITHHELD_MARKER : text;
}

/** Every string of a JSON-like value that reads as instructions replaced by the marker. */
export function withholdStrings<T>(value: T): T {
  if (typeof value === 'string') return withholdText(value) as T;
  if (Array.isArray(value)) return value.map(withholdStrings) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = withholdStrings(v);
    return out as T;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// What one incident withholds

// Quoted fragments shorter than this are only replaced when they read as instructions themselves:
// a short benign commit subject must not blank out unrelated words elsewhere.
const MIN_FRAGMENT = 12;
// A quotation cut to this many characters or more (without an ellipsis) still counts as the fragment.
const MIN_CUT_QUOTE = 100;

function flat(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Which items of one incident are withheld, the texts that may be quoted from them, and the
 * report's list. Quotations are found by their text, so every place that quotes an item (the
 * timeline, trigger evidence, the draft) is covered without knowing how it quotes.
 */
export class Withholding {
  private readonly hidden = new Set<object>();
  private readonly fragments: string[] = [];
  private readonly list: Array<WithheldEntry & { ms: number }> = [];

  /** Records an item (a bundle or facts object) whose texts are withheld wherever they would be quoted. */
  add(item: object, source: TimelineSource, ms: number | null, quoted: Array<string | null | undefined>, ref?: string, count = 1): void {
    if (this.hidden.has(item)) return;
    this.hidden.add(item);
    let added = false;
    for (const q of quoted) {
      if (typeof q !== 'string') continue;
      const f = flat(q);
      if (!(f.length >= MIN_FRAGMENT || isInstructionLike(f))) continue;
      if (this.fragments.includes(f)) continue;
      this.fragments.push(f);
      added = true;
    }
    // longest first: a fragment that contains another is replaced whole, not around the shorter one
    this.fragments.sort((x, y) => y.length - x.length);
    const at = ms !== null && Number.isFinite(ms) ? ms : 0;
    // one record seen twice (a change event that is also a Datadog event) is listed once
    if (!added && this.list.some((e) => e.source === source && e.ms === at)) return;
    const entry: WithheldEntry & { ms: number } = { source, at: formatMs(at), count, ms: at };
    if (ref !== undefined) entry.ref = ref;
    this.list.push(entry);
  }

  /** The report's `withheld` list, in time order. */
  entries(): WithheldEntry[] {
    return this.list
      .slice()
      .sort((a, b) => a.ms - b.ms)
      .map(({ ms: _ms, ...e }) => e);
  }

  /**
   * `text` with every quotation of a withheld item replaced by the marker. A quotation may be cut
   * ("…" or a fixed length) and have its whitespace folded, as the timeline and the draft do.
   */
  text(text: string): string {
    if (this.fragments.length === 0 || text.length < 4) return text;
    let out = text;
    for (const f of this.fragments) out = replaceQuoted(out, f);
    return out;
  }

  /** `value` with `text` applied to every string (a new value; the input is not changed). */
  deep<T>(value: T): T {
    if (this.fragments.length === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.text(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = walk(x);
        return out;
      }
      return v;
    };
    return walk(value) as T;
  }

  /**
   * The trigger assessment's texts (reasons, evidence, the verdict's reason) with quotations
   * withheld, in place: every consumer of the analysis (report, tools, CLI) then sees the same.
   */
  scrubTrigger(assessment: TriggerAssessment): void {
    if (this.fragments.length === 0) return;
    const fix = (list: string[]) => {
      for (let i = 0; i < list.length; i++) list[i] = this.text(list[i]!);
    };
    for (const c of assessment.candidates) {
      fix(c.reasons);
      fix(c.evidence);
      if (c.culprit) fix(c.culprit.evidence);
    }
    assessment.reason = this.text(assessment.reason);
  }
}

/** Replaces each occurrence of `fragment` (whole, or cut with "…" or at ≥ MIN_CUT_QUOTE chars) in `text`. */
function replaceQuoted(text: string, fragment: string): string {
  const head = fragment.slice(0, Math.min(fragment.length, 16));
  let from = 0;
  let out = text;
  for (;;) {
    const start = indexFolded(out, head, from);
    if (start < 0) return out;
    // walk both strings, whitespace runs matching whitespace runs
    let i = start;
    let j = 0;
    while (i < out.length && j < fragment.length) {
      const a = out[i]!;
      const b = fragment[j]!;
      if (/\s/.test(a) && /\s/.test(b)) {
        while (i < out.length && /\s/.test(out[i]!)) i++;
        while (j < fragment.length && /\s/.test(fragment[j]!)) j++;
        continue;
      }
      if (a !== b) break;
      i++;
      j++;
    }
    let end = -1;
    if (j >= fragment.length) end = i;
    else if (out[i] === '…') end = i + 1;
    else if (out.slice(i, i + 3) === '...') end = i + 3;
    else if (j >= MIN_CUT_QUOTE) end = i;
    if (end < 0) {
      from = start + 1;
      continue;
    }
    out = out.slice(0, start) + WITHHELD_MARKER + out.slice(end);
    from = start + WITHHELD_MARKER.length;
  }
}

function indexFolded(text: string, head: string, from: number): number {
  // the head rarely contains a whitespace run that differs from the quotation's; fall back to
  // a folded search only when the plain one fails
  const plain = text.indexOf(head, from);
  if (plain >= 0 || !/\s/.test(head)) return plain;
  const re = new RegExp(head.split(/\s+/).map(escapeRe).join('\\s+'), 'g');
  re.lastIndex = from;
  const m = re.exec(text);
  return m ? m.index : -1;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Finds the instruction-like items of an incident: everything the timeline or the report may quote. */
export function findWithheld(bundle: Bundle, facts: IncidentFacts): Withholding {
  const w = new Withholding();
  const src = bundle.sources ?? {};
  const any = (...texts: Array<string | null | undefined>) => texts.some((t) => isInstructionLike(t));

  const inc = bundle.incident;
  if (isInstructionLike(inc.title)) {
    w.add(inc, inc.source === 'opsgenie' ? 'opsgenie' : 'pagerduty', facts.createdMs, [inc.title], inc.id);
  }
  for (const e of src.pagerduty?.log_entries ?? []) {
    const details = e.channel?.details as { content?: unknown } | undefined;
    const content = typeof details?.content === 'string' ? details.content : undefined;
    if (any(e.summary, e.channel?.summary, content)) {
      w.add(e, 'pagerduty', parseIsoMs(e.created_at), [e.summary, e.channel?.summary, content].filter(isInstructionLike), e.id != null ? `pagerduty:${e.id}` : undefined);
    }
  }
  // An alert's or event's body is never quoted (only its summary or title is), so only those count.
  for (const a of src.pagerduty?.alerts ?? []) {
    if (isInstructionLike(a.summary)) w.add(a, 'pagerduty', parseIsoMs(a.created_at), [a.summary], a.id != null ? `pagerduty-alert:${a.id}` : undefined);
  }
  for (const l of src.opsgenie?.logs ?? []) {
    if (isInstructionLike(l.log)) w.add(l, 'opsgenie', parseIsoMs(l.createdAt), [l.log]);
  }
  for (const m of src.slack?.messages ?? []) {
    if (isInstructionLike(m.text)) w.add(m, 'slack', parseSlackTsMs(m.ts), [m.text], `slack:${m.ts}`);
  }
  for (const repo of src.github?.repos ?? []) {
    for (const c of repo.commits ?? []) {
      const message = c.commit?.message ?? '';
      if (!isInstructionLike(message)) continue;
      const ms = parseIsoMs(c.commit?.author?.date ?? c.commit?.committer?.date ?? '');
      // the whole message: its subject is quoted too, in the timeline and in trigger evidence
      w.add(c, 'github', ms, [message.split('\n')[0], ...message.split('\n').filter(isInstructionLike)], `${repo.full_name}@${c.sha.slice(0, 7)}`);
    }
  }
  for (const d of facts.deployments) {
    if (!isInstructionLike(d.description)) continue;
    const ref = d.origin === 'github' ? `${d.repo}@${(d.sha ?? '').slice(0, 7)}#${d.id}` : `${d.origin}-change-event:${d.id}`;
    w.add(d, d.origin, d.createdMs, [d.description], ref);
  }
  for (const e of src.datadog?.events ?? []) {
    if (isInstructionLike(e.title)) w.add(e, 'datadog', epochSecondsToMs(e.date_happened), [e.title], e.id != null ? `datadog-event:${e.id}` : undefined);
  }
  // Log lines reach the report only as a signature's template and sample: those are checked, not
  // every line (a bundle may hold millions).
  for (const s of facts.logSignatures) withholdSignature(w, s);
  return w;
}

function withholdSignature(w: Withholding, s: LogSignature): void {
  const template = isInstructionLike(s.template);
  if (template) {
    w.add(s, 'logs', s.firstMs, [s.template, s.sample, s.detail], `log-signature:${s.id}`, s.count);
    return;
  }
  // The template is safe to show (the instruction fell under <*>), the sample line is not.
  if (isInstructionLike(s.sample) || isInstructionLike(s.detail)) {
    w.add({ sampleOf: s }, 'logs', s.firstMs, [s.sample, s.detail], `log-signature:${s.id}`, 1);
  }
}
