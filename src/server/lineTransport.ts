// MCP over stdio (newline-delimited JSON-RPC), replacing the SDK's StdioServerTransport where it
// falls short of the protocol or of a clean shutdown:
// - a line that is not JSON is answered -32700 (Parse error), a JSON value that is not a JSON-RPC
//   message -32600 (Invalid Request), instead of being dropped;
// - the client going away (stdout EPIPE, stdin closed) is a normal close, not an uncaught error;
// - stdin ending (e.g. requests piped in) closes only after every request received so far has
//   been answered and written out;
// - concurrent writes waiting for the pipe to drain share one 'drain' listener (the SDK adds one
//   per pending message, which trips MaxListenersExceededWarning under load).
import type { Readable, Writable } from 'node:stream';
import { ProtocolErrorCode as ErrorCode, parseJSONRPCMessage, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/server';

/** A request line longer than this is refused (-32600) without being buffered. */
export const MAX_REQUEST_LINE_BYTES = 256 * 1024 * 1024;

type Id = string | number;

export class LineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private chunks: Buffer[] = [];
  private buffered = 0;
  /** inside a line that was already refused for its length: drop bytes up to the next newline */
  private skippingLongLine = false;
  private closed = false;
  private inputEnded = false;
  /** requests received and not yet answered */
  private readonly pending = new Set<Id>();
  /** writes handed to stdout whose callback has not run yet */
  private writesInFlight = 0;
  private drained: Promise<void> | null = null;
  private wakeDrain: (() => void) | null = null;
  private markClosed!: () => void;
  /** resolves once the transport has closed, whoever owns its callbacks */
  readonly closedPromise = new Promise<void>((resolve) => (this.markClosed = resolve));

  constructor(
    private readonly stdin: Readable = process.stdin,
    private readonly stdout: Writable = process.stdout,
    private readonly maxLineBytes = MAX_REQUEST_LINE_BYTES,
  ) {}

  async start(): Promise<void> {
    this.stdin.on('data', this.onData);
    this.stdin.on('end', this.onInputEnd);
    this.stdin.on('close', this.onInputEnd);
    this.stdin.on('error', this.onInputError);
    this.stdout.on('error', this.onOutputError);
  }

  private readonly onData = (chunk: Buffer | string) => {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a)) {
      const tail = data.subarray(0, nl);
      data = data.subarray(nl + 1);
      if (this.skippingLongLine) {
        this.skippingLongLine = false;
        continue;
      }
      const line = this.buffered ? Buffer.concat([...this.chunks, tail]) : tail;
      this.chunks = [];
      this.buffered = 0;
      this.handleLine(line.toString('utf8').replace(/\r$/, ''));
      if (this.closed) return;
    }
    if (data.length === 0 || this.skippingLongLine) return;
    if (this.buffered + data.length > this.maxLineBytes) {
      this.chunks = [];
      this.buffered = 0;
      this.skippingLongLine = true;
      this.reply(null, ErrorCode.InvalidRequest, `request line longer than ${this.maxLineBytes} bytes: refused`);
      return;
    }
    this.chunks.push(data);
    this.buffered += data.length;
  };

  private handleLine(line: string): void {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      this.reply(null, ErrorCode.ParseError, `Parse error: ${(err as Error).message}`);
      return;
    }
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(value);
    } catch {
      const id = (value as { id?: unknown } | null)?.id;
      this.reply(typeof id === 'string' || typeof id === 'number' ? id : null, ErrorCode.InvalidRequest, 'Invalid Request: not a JSON-RPC 2.0 request, notification or response');
      return;
    }
    if ('method' in message && 'id' in message) this.pending.add(message.id);
    // a cancelled request gets no answer (the SDK drops it), so stop waiting for one
    if ('method' in message && message.method === 'notifications/cancelled' && !('id' in message)) {
      const cancelled = (message.params as { requestId?: Id } | undefined)?.requestId;
      if (cancelled !== undefined) this.pending.delete(cancelled);
    }
    this.onmessage?.(message);
    this.closeIfDone();
  }

  /** An error reply from the transport itself (for messages the protocol layer never sees). */
  private reply(id: Id | null, code: number, message: string): void {
    this.write(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }) + '\n');
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return;
    const answered = !('method' in message) && 'id' in message ? message.id : undefined;
    if (!this.write(JSON.stringify(message) + '\n')) await this.waitForDrain();
    if (answered !== undefined) {
      this.pending.delete(answered);
      this.closeIfDone();
    }
  }

  /** false when the pipe is full and the caller should wait for it to drain */
  private write(text: string): boolean {
    if (this.closed) return true;
    this.writesInFlight++;
    return this.stdout.write(text, () => {
      this.writesInFlight--;
      this.closeIfDone();
    });
  }

  private waitForDrain(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.drained) {
      this.drained = new Promise<void>((resolve) => {
        this.wakeDrain = () => {
          this.drained = null;
          this.wakeDrain = null;
          this.stdout.off('drain', onDrain);
          resolve();
        };
        const onDrain = () => this.wakeDrain?.();
        this.stdout.once('drain', onDrain);
      });
    }
    return this.drained;
  }

  private readonly onInputEnd = () => {
    if (this.inputEnded) return;
    this.inputEnded = true;
    // a last line without its newline still counts
    if (this.buffered && !this.skippingLongLine) {
      const line = Buffer.concat(this.chunks).toString('utf8');
      this.chunks = [];
      this.buffered = 0;
      this.handleLine(line);
    }
    this.closeIfDone();
  };

  private readonly onInputError = (err: Error) => {
    this.onerror?.(err);
    void this.close();
  };

  private readonly onOutputError = (err: NodeJS.ErrnoException) => {
    // EPIPE / destroyed stream: the client is gone; nobody is left to answer
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED' && err.code !== 'ECONNRESET') this.onerror?.(err);
    void this.close();
  };

  private closeIfDone(): void {
    if (this.inputEnded && this.pending.size === 0 && this.writesInFlight === 0) void this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off('data', this.onData);
    this.stdin.off('end', this.onInputEnd);
    this.stdin.off('close', this.onInputEnd);
    this.stdin.pause();
    this.chunks = [];
    this.wakeDrain?.();
    this.onclose?.();
    this.markClosed();
  }
}
