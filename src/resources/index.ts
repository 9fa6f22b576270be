// Registers the MCP resources. Listed resources carry their size in bytes; a resource larger than
// the cap (HINDSIGHT_MAX_RESOURCE_BYTES, default DEFAULT_MAX_RESOURCE_BYTES) is refused with
// -32602 and its size in `data` rather than sent as one huge line; an unknown incident is "Resource
// not found": -32602 with exactly `{ uri }` in `data` (MCP 2026-07-28; the SDK maps it for every era).
import { ProtocolError as McpError, ProtocolErrorCode as ErrorCode, ResourceNotFoundError, ResourceTemplate, type McpServer } from '@modelcontextprotocol/server';
import type { ToolDeps } from '../tools/defineTool.js';
import type { StoredIncident } from '../store/incidentStore.js';
import { INCIDENT_RESOURCES, type IncidentResource } from './incidentResources.js';
import { registerPastReports } from './pastReports.js';

// 4 MiB of text stays a message under 10 MiB once JSON-escaped, the default line limit of the
// official SDK's stdio client (a longer line makes it drop the connection).
export const DEFAULT_MAX_RESOURCE_BYTES = 4 * 1024 * 1024;

/** How many stored incidents resources/list covers (most recent first). */
const LISTED_INCIDENTS = 50;

export interface ResourceOptions {
  /** resources larger than this many bytes are refused; their size is still listed */
  maxResourceBytes: number;
  /** renders a resource off the main thread (the server's worker pool); absent: in process */
  read?: (resource: string, incidentId: string, signal?: AbortSignal) => Promise<string>;
}

export function resourceNotFound(uri: string, why: string): McpError {
  return new ResourceNotFoundError(uri, `Resource not found: ${uri} (${why})`);
}

export function resourceTooLarge(uri: string, size: number, limit: number, hint: string): McpError {
  return new McpError(
    ErrorCode.InvalidParams,
    `Resource too large: ${uri} is ${size} bytes, above this server's limit of ${limit} bytes (HINDSIGHT_MAX_RESOURCE_BYTES); ${hint}`,
    { uri, size, limit },
  );
}

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

export function registerResources(server: McpServer, deps: ToolDeps, options: ResourceOptions = { maxResourceBytes: DEFAULT_MAX_RESOURCE_BYTES }): void {
  const limit = options.maxResourceBytes;
  // sizes of rendered resources, by resource, incident and the time its bundle was stored
  const sizes = new Map<string, number>();

  const uriOf = (resource: IncidentResource, id: string) => resource.uriTemplate.replace('{incident_id}', encodeURIComponent(id));

  /**
   * The exact size, rendering when needed. A bundle over the limit is never rendered for a listing:
   * the bundle resource is listed with its stored size, what is derived from it without a size.
   */
  const sizeOf = (resource: IncidentResource, incident: StoredIncident): number | undefined | null => {
    const stored = deps.store.bundleBytes(incident.id);
    if (stored === null) return null;
    if (stored > limit && resource.servesWholeBundle) return stored;
    const report = resource.name === 'incident-report' ? deps.store.getReport(incident.id) : null;
    if (report) return byteLength(report.markdown);
    if (stored > limit) return undefined;
    const key = `${resource.name}\0${incident.id}\0${incident.storedAt}`;
    let size = sizes.get(key);
    if (size === undefined) {
      size = byteLength(resource.read(incident.id, deps));
      sizes.set(key, size);
    }
    return size;
  };

  for (const resource of INCIDENT_RESOURCES) {
    const suffix = resource.uriTemplate.split('}/')[1]!;
    const template = new ResourceTemplate(resource.uriTemplate, {
      list: async () => ({
        resources: deps.store.listIncidents(LISTED_INCIDENTS).flatMap((incident) => {
          const size = sizeOf(resource, incident);
          if (size === null) return [];
          return [
            {
              uri: uriOf(resource, incident.id),
              name: `${incident.id} ${suffix}`,
              mimeType: resource.mimeType,
              ...(size !== undefined ? { size } : {}),
              ...(size !== undefined && size > limit ? { description: `${resource.description}. Larger than this server's limit of ${limit} bytes: reading it is refused; ${resource.tooLargeHint}` } : {}),
            },
          ];
        }),
      }),
      complete: { incident_id: async (value) => deps.store.listIncidents(LISTED_INCIDENTS).map((i) => i.id).filter((id) => id.startsWith(value)) },
    });
    server.registerResource(resource.name, template, { title: resource.title, description: resource.description, mimeType: resource.mimeType }, async (uri, variables, ctx) => {
      const raw = variables.incident_id;
      const id = decodeURIComponent(Array.isArray(raw) ? raw[0]! : raw!);
      const stored = deps.store.bundleBytes(id);
      if (stored === null) throw resourceNotFound(uri.href, `no stored incident "${id}"`);
      if (resource.servesWholeBundle && stored > limit) throw resourceTooLarge(uri.href, stored, limit, resource.tooLargeHint);
      const text = options.read ? await options.read(resource.name, id, ctx.mcpReq.signal) : resource.read(id, deps);
      const size = byteLength(text);
      if (size > limit) throw resourceTooLarge(uri.href, size, limit, resource.tooLargeHint);
      return { contents: [{ uri: uri.href, mimeType: resource.mimeType, text }] };
    });
  }
  registerPastReports(server, deps);
}

export { INCIDENT_RESOURCES } from './incidentResources.js';
