// A worker thread that runs tool calls and resource reads for the MCP server, so parsing a large
// bundle or analysing it never blocks the thread that answers pings, cancellations and other
// clients. It builds its own dependencies from the environment (its own SQLite connection to the
// same store) exactly as the server's main thread does.
import { parentPort, workerData } from 'node:worker_threads';
import { IncidentStore, hindsightHome } from '../store/incidentStore.js';
import { TOOLS, ToolError, parseToolInput, type ToolDeps } from '../tools/index.js';
import { CancelledError, type ToolContext } from '../tools/defineTool.js';
import { INCIDENT_RESOURCES } from '../resources/incidentResources.js';
import { environmentDeps } from './environmentDeps.js';
import type { FromWorker, ToWorker } from './workerProtocol.js';

const port = parentPort!;
const { cwd, bundleRoot } = workerData as { cwd: string; bundleRoot?: string | null };
const store = IncidentStore.open(hindsightHome());
const deps: ToolDeps = { store, writesEnabled: process.env.HINDSIGHT_WRITE === '1', cwd, ...(bundleRoot !== undefined ? { bundleRoot } : {}), ...environmentDeps() };

const confirmations = new Map<number, (ok: boolean) => void>();
const aborts = new Map<number, AbortController>();
let confirmSeq = 0;
const send = (message: FromWorker) => port.postMessage(message);

port.on('message', async (message: ToWorker) => {
  if (message.kind === 'confirmed') {
    confirmations.get(message.seq)?.(message.ok);
    confirmations.delete(message.seq);
    return;
  }
  if (message.kind === 'cancel') {
    aborts.get(message.id)?.abort();
    return;
  }
  const { id } = message;
  const controller = new AbortController();
  aborts.set(id, controller);
  // the main thread raises this flag the moment a call is cancelled; it is read synchronously, so
  // a check between two synchronous steps (after parsing, before storing) sees it at once
  const flag = new Int32Array(message.cancelFlag);
  try {
    if (message.kind === 'tool') {
      const tool = TOOLS.find((t) => t.name === message.tool)!;
      const ctx: ToolContext = {
        signal: controller.signal,
        cancelled: () => Atomics.load(flag, 0) === 1 || controller.signal.aborted,
        ...(message.wantsProgress ? { progress: (progress: number, total: number, text: string) => send({ kind: 'progress', id, progress, total, message: text }) } : {}),
        ...(message.canConfirm
          ? {
              confirm: (text: string) =>
                new Promise<boolean>((resolve) => {
                  const seq = ++confirmSeq;
                  confirmations.set(seq, resolve);
                  send({ kind: 'confirm', id, seq, message: text });
                }),
            }
          : {}),
      };
      const result = await tool.handler(parseToolInput(tool, message.args) as never, deps, ctx);
      send({ kind: 'result', id, structured: result.structured, text: result.text, ...(result.links ? { links: result.links } : {}) });
    } else {
      const resource = INCIDENT_RESOURCES.find((r) => r.name === message.resource)!;
      send({ kind: 'resource', id, text: resource.read(message.incidentId, deps) });
    }
  } catch (err) {
    send({ kind: 'error', id, message: (err as Error).message, toolError: err instanceof ToolError || err instanceof CancelledError });
  } finally {
    aborts.delete(id);
  }
});
