import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolDeps } from '../tools/defineTool.js';
import { INCIDENT_RESOURCES } from './incidentResources.js';

export function registerResources(server: McpServer, deps: ToolDeps): void {
  for (const resource of INCIDENT_RESOURCES) {
    const suffix = resource.uriTemplate.split('}/')[1]!;
    const template = new ResourceTemplate(resource.uriTemplate, {
      list: async () => ({
        resources: deps.store.listIncidents(50).map((i) => ({
          uri: `hindsight://incidents/${encodeURIComponent(i.id)}/${suffix}`,
          name: `${i.id} ${suffix}`,
          mimeType: resource.mimeType,
        })),
      }),
      complete: { incident_id: async (value) => deps.store.listIncidents(50).map((i) => i.id).filter((id) => id.startsWith(value)) },
    });
    server.registerResource(resource.name, template, { title: resource.title, description: resource.description, mimeType: resource.mimeType }, async (uri, variables) => {
      const raw = variables.incident_id;
      const id = decodeURIComponent(Array.isArray(raw) ? raw[0]! : raw!);
      return { contents: [{ uri: uri.href, mimeType: resource.mimeType, text: resource.read(id, deps) }] };
    });
  }
}

export { INCIDENT_RESOURCES } from './incidentResources.js';
