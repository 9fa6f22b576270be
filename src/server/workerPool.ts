// Runs tool calls and resource reads on worker threads, one call per worker at a time, so the
// server's main thread stays free to answer pings, cancellations and other clients while a large
// bundle is parsed or analysed. A cancelled call is abandoned at once; its worker sees the
// cancellation flag before storing anything and is terminated if it does not stop promptly.
import { Worker } from 'node:worker_threads';
import type { ToolContext, ToolDefinition, ToolResult } from '../tools/defineTool.js';
import { CancelledError, ToolError } from '../tools/defineTool.js';
import type { FromWorker, ToWorker } from './workerProtocol.js';
import { InputError } from '../io/files.js';

export interface WorkRunner {
  runTool(tool: ToolDefinition, args: unknown, ctx: ToolContext): Promise<ToolResult<unknown>>;
  readResource(resource: string, incidentId: string, signal?: AbortSignal): Promise<string>;
  close(): Promise<void>;
}

/** how long a cancelled call's worker may take to stop on its own before it is terminated */
const CANCEL_GRACE_MS = 500;

interface Job {
  id: number;
  message: ToWorker & { kind: 'tool' | 'resource' };
  ctx: ToolContext;
  signal?: AbortSignal;
  resolve: (value: FromWorker) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

export class WorkerPool implements WorkRunner {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly cwd: string,
    private readonly bundleRoot: string | null | undefined = undefined,
    private readonly script = new URL('./toolWorker.js', import.meta.url),
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.script, { workerData: { cwd: this.cwd, bundleRoot: this.bundleRoot } }), job: null };
    slot.worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
    slot.worker.on('error', (err) => this.onExit(slot, err));
    slot.worker.on('exit', () => this.onExit(slot, new Error('the worker stopped')));
    return slot;
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    const job = slot.job;
    if (!job || m.id !== job.id) return;
    if (m.kind === 'progress') return job.ctx.progress?.(m.progress, m.total, m.message);
    if (m.kind === 'confirm') {
      const ask = job.ctx.confirm ?? (async () => true);
      void ask(m.message).then((ok) => slot.worker.postMessage({ kind: 'confirmed', seq: m.seq, ok } satisfies ToWorker));
      return;
    }
    slot.job = null;
    job.resolve(m);
    this.pump();
  }

  private onExit(slot: Slot, err: Error): void {
    const index = this.slots.indexOf(slot);
    if (index === -1) return;
    const job = slot.job;
    slot.job = null;
    if (this.closed) return;
    this.slots[index] = this.spawn();
    job?.reject(new Error(`internal error: ${err.message}`));
    this.pump();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job || !this.queue.length) continue;
      const job = this.queue.shift()!;
      if (job.signal?.aborted) {
        job.reject(new CancelledError('cancelled'));
        continue;
      }
      slot.job = job;
      slot.worker.postMessage(job.message);
    }
  }

  private submit(message: Job['message'], ctx: ToolContext, signal: AbortSignal | undefined): Promise<FromWorker> {
    if (this.closed) return Promise.reject(new Error('the server is shutting down'));
    return new Promise<FromWorker>((resolve, reject) => {
      const job: Job = { id: message.id, message, ctx, ...(signal ? { signal } : {}), resolve, reject };
      signal?.addEventListener(
        'abort',
        () => {
          Atomics.store(new Int32Array(message.cancelFlag), 0, 1);
          const queued = this.queue.indexOf(job);
          if (queued !== -1) this.queue.splice(queued, 1);
          const slot = this.slots.find((s) => s.job === job);
          if (slot) {
            slot.worker.postMessage({ kind: 'cancel', id: job.id } satisfies ToWorker);
            // still running after the grace period (e.g. inside one long JSON.parse): stop it
            setTimeout(() => {
              if (slot.job === job) void slot.worker.terminate();
            }, CANCEL_GRACE_MS).unref();
          }
          reject(new CancelledError('cancelled'));
        },
        { once: true },
      );
      this.queue.push(job);
      this.pump();
    });
  }

  async runTool(tool: ToolDefinition, args: unknown, ctx: ToolContext): Promise<ToolResult<unknown>> {
    const id = this.nextId++;
    const answer = await this.submit(
      { kind: 'tool', id, tool: tool.name, args, cancelFlag: new SharedArrayBuffer(4), wantsProgress: ctx.progress !== undefined, canConfirm: ctx.confirm !== undefined },
      ctx,
      ctx.signal,
    );
    if (answer.kind === 'result') return { structured: answer.structured, text: answer.text, ...(answer.links ? { links: answer.links } : {}) };
    if (answer.kind === 'error') throw answer.toolError ? new ToolError(answer.message) : new Error(answer.message);
    throw new Error(`internal error: unexpected worker answer ${answer.kind}`);
  }

  async readResource(resource: string, incidentId: string, signal?: AbortSignal): Promise<string> {
    const id = this.nextId++;
    const answer = await this.submit({ kind: 'resource', id, resource, incidentId, cancelFlag: new SharedArrayBuffer(4) }, {}, signal);
    if (answer.kind === 'resource') return answer.text;
    if (answer.kind === 'error') throw answer.toolError ? new ToolError(answer.message) : new Error(answer.message);
    throw new Error(`internal error: unexpected worker answer ${answer.kind}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the server is shutting down'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/** HINDSIGHT_WORKERS: how many tool workers (default 2; 0 runs tools on the main thread). */
export function workerCountFromEnvironment(env: NodeJS.ProcessEnv): number {
  const raw = env.HINDSIGHT_WORKERS?.trim();
  if (!raw) return 2;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new InputError(`HINDSIGHT_WORKERS: not a whole number from 0 to 64: "${raw.slice(0, 20)}"`);
  return n;
}
