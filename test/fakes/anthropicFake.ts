// A loopback Anthropic Messages API (node:http on 127.0.0.1, port 0) for the LLM-mode tests. It
// speaks what @anthropic-ai/sdk sends — POST /v1/messages with the API key (`x-api-key`, or
// `Authorization: Bearer` as SDK 1.x sends it), an `anthropic-version` header and a JSON body
// with model, max_tokens, system, messages, tools — and
// answers like the API: a `message` object with text / tool_use content blocks and a stop_reason,
// or `{ type: 'error', error: { type, message } }` with the HTTP status.
//
// Scripted: each call to /v1/messages consumes the next entry of `script` (a reply, or a function
// of the request returning one): tool calls, a final text, an HTTP error, or a hang (no answer
// until the client gives up). Every request is recorded, including rejected ones.
//
// Like the real API it rejects malformed conversations with a 400 invalid_request_error: roles
// must alternate starting with user, every tool_use must be answered by a tool_result at the start
// of the next user message, and tool_use/tool_result blocks require `tools` to be defined.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeContentBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: string | Array<{ type: string; text?: string }>;
  is_error?: boolean;
}

export interface FakeMessageParam {
  role: 'user' | 'assistant';
  content: string | FakeContentBlock[];
}

export interface FakeMessagesBody {
  model: string;
  max_tokens: number;
  system?: string | Array<{ type: string; text: string }>;
  messages: FakeMessageParam[];
  tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown> }>;
  [k: string]: unknown;
}

export interface FakeAnthropicRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  /** the parsed JSON body (null when it was not JSON) */
  body: FakeMessagesBody;
  /** the HTTP status the fake answered with (0 while hanging) */
  status: number;
}

export type FakeReply =
  /** a tool_use turn: stop_reason 'tool_use' */
  | { kind: 'tools'; calls: Array<{ name: string; input: unknown; id?: string }>; text?: string }
  /** a final text turn: stop_reason 'end_turn' (or as given) */
  | { kind: 'text'; text: string; stopReason?: 'end_turn' | 'max_tokens' | 'stop_sequence' }
  /** an HTTP error in the API's error shape */
  | { kind: 'error'; status: number; type?: string; message?: string; retryAfterMs?: number }
  /** never answers; the connection stays open until the client times out or the fake closes */
  | { kind: 'hang' };

export type ScriptEntry = FakeReply | ((req: FakeAnthropicRequest) => FakeReply);

export interface AnthropicFakeOptions {
  apiKey: string;
  script: ScriptEntry[];
}

export interface AnthropicFake {
  /** base URL for the SDK's baseURL option, e.g. http://127.0.0.1:PORT */
  url: string;
  /** every request to /v1/messages, in order */
  requests: FakeAnthropicRequest[];
  /** script entries not yet consumed */
  remaining(): number;
  close(): Promise<void>;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${Math.random().toString(36).slice(2, 10)}`, ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, type: string | undefined, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { type: 'error', error: { type: type ?? ERROR_TYPES[status] ?? 'api_error', message } }, headers);
}

/** The conversation rules the real API enforces; returns the first violation. */
function conversationError(body: FakeMessagesBody): string | null {
  if (typeof body.model !== 'string' || body.model === '') return 'model: Field required';
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) return 'max_tokens: must be a positive integer';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: at least one message is required';
  if (body.tools !== undefined && !Array.isArray(body.tools)) return 'tools: must be a list';
  const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
  let pending: string[] = [];
  for (let i = 0; i < body.messages.length; i++) {
    const m = body.messages[i]!;
    const expected = i % 2 === 0 ? 'user' : 'assistant';
    if (m.role !== expected) return `messages.${i}: roles must alternate between "user" and "assistant", starting with "user"`;
    const blocks: FakeContentBlock[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    if (!Array.isArray(blocks) || blocks.length === 0) return `messages.${i}: content must not be empty`;
    for (const b of blocks) {
      if (b.type === 'text' && (typeof b.text !== 'string' || b.text.length === 0)) return `messages.${i}: text content blocks must be non-empty`;
      if ((b.type === 'tool_use' || b.type === 'tool_result') && !hasTools) return 'Requests which include `tool_use` or `tool_result` blocks must define tools.';
    }
    if (m.role === 'user') {
      const results = blocks.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id ?? '');
      const leading = blocks.slice(0, pending.length);
      if (pending.length && (leading.some((b) => b.type !== 'tool_result') || pending.some((id) => !results.includes(id)))) {
        return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${pending.join(', ')}`;
      }
      pending = [];
    } else {
      pending = blocks.filter((b) => b.type === 'tool_use').map((b) => b.id ?? '');
    }
  }
  if (body.messages[body.messages.length - 1]!.role !== 'user') return 'messages: the last message must have the "user" role';
  return null;
}

export async function createAnthropicFake(options: AnthropicFakeOptions): Promise<AnthropicFake> {
  const requests: FakeAnthropicRequest[] = [];
  const script = options.script.slice();
  let nextId = 1;

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const raw = await readBody(req);
      let body: FakeMessagesBody;
      try {
        body = JSON.parse(raw) as FakeMessagesBody;
      } catch {
        body = null as unknown as FakeMessagesBody;
      }
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const record: FakeAnthropicRequest = { method: req.method ?? 'GET', path: url.pathname, headers, body, status: 0 };
      const answer = (status: number) => (record.status = status);

      if (url.pathname !== '/v1/messages') {
        answer(404);
        return sendError(res, 404, 'not_found_error', `Not found: ${url.pathname}`);
      }
      requests.push(record);
      if (req.method !== 'POST') {
        answer(405);
        return sendError(res, 405, 'invalid_request_error', 'Method not allowed');
      }
      if (apiKeyOf(record) !== options.apiKey) {
        answer(401);
        return sendError(res, 401, 'authentication_error', 'invalid x-api-key');
      }
      if (!headers['anthropic-version'] || !/^\d{4}-\d{2}-\d{2}$/.test(headers['anthropic-version'])) {
        answer(400);
        return sendError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
      }
      if (body === null || typeof body !== 'object') {
        answer(400);
        return sendError(res, 400, 'invalid_request_error', 'body: not valid JSON');
      }
      const invalid = conversationError(body);
      if (invalid) {
        answer(400);
        return sendError(res, 400, 'invalid_request_error', invalid);
      }
      const entry = script.shift();
      if (entry === undefined) {
        answer(400);
        return sendError(res, 400, 'invalid_request_error', 'anthropic fake: script exhausted');
      }
      const reply = typeof entry === 'function' ? entry(record) : entry;

      if (reply.kind === 'hang') return; // left open: the client times out, close() ends it
      if (reply.kind === 'error') {
        answer(reply.status);
        return sendError(res, reply.status, reply.type, reply.message ?? 'scripted error', {
          'retry-after-ms': String(reply.retryAfterMs ?? 10),
        });
      }
      const content =
        reply.kind === 'tools'
          ? [
              ...(reply.text ? [{ type: 'text', text: reply.text }] : []),
              ...reply.calls.map((c) => ({ type: 'tool_use', id: c.id ?? `toolu_fake_${String(nextId++).padStart(4, '0')}`, name: c.name, input: c.input })),
            ]
          : [{ type: 'text', text: reply.text }];
      const outputChars = content.reduce((n, b) => n + ('text' in b && typeof b.text === 'string' ? b.text.length : JSON.stringify(b).length), 0);
      answer(200);
      sendJson(res, 200, {
        id: `msg_fake_${String(nextId++).padStart(4, '0')}`,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content,
        stop_reason: reply.kind === 'tools' ? 'tool_use' : (reply.stopReason ?? 'end_turn'),
        stop_sequence: null,
        usage: { input_tokens: Math.ceil(raw.length / 4), output_tokens: Math.max(1, Math.ceil(outputChars / 4)) },
      });
    })().catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'api_error', `anthropic fake crashed: ${(err as Error).message}`);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    remaining: () => script.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The API key a request authenticated with: the `x-api-key` header, or `Authorization: Bearer`
 * (which @anthropic-ai/sdk 1.x sends for an apiKey; the API accepts both).
 */
export function apiKeyOf(req: Pick<FakeAnthropicRequest, 'headers'>): string | undefined {
  const direct = req.headers['x-api-key'];
  if (direct) return direct;
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

/** Every tool_result block of a recorded request, with the name of the tool it answers. */
export function toolResultsOf(req: FakeAnthropicRequest): Array<{ name: string | undefined; content: string; isError: boolean }> {
  const names = new Map<string, string>();
  const out: Array<{ name: string | undefined; content: string; isError: boolean }> = [];
  for (const m of req.body.messages) {
    if (typeof m.content === 'string') continue;
    for (const b of m.content) {
      if (b.type === 'tool_use' && b.id && b.name) names.set(b.id, b.name);
      if (b.type === 'tool_result') {
        const content = typeof b.content === 'string' ? b.content : (b.content ?? []).map((c) => c.text ?? '').join('');
        out.push({ name: names.get(b.tool_use_id ?? ''), content, isError: b.is_error === true });
      }
    }
  }
  return out;
}
