/**
 * The registry as the scanner reads it: one plain-data index by host port, container port and name,
 * with each service's `.env.shared` variable names derived once. Plain data crosses to the worker
 * thread as it is.
 */
import { containerPortOf, deriveEnvNames, isContainer } from "./derive.ts";
import type { IndexedService, PortIndex } from "./scan-findings.ts";
import type { Registry } from "./schema.ts";

export function createPortIndex(registry: Registry | undefined): PortIndex {
  const byPort = new Map<number, IndexedService>();
  const byContainerPort = new Map<number, IndexedService[]>();
  const byName = new Map<string, IndexedService>();
  for (const service of registry?.services ?? []) {
    const names = deriveEnvNames(service, registry);
    const indexed: IndexedService = {
      name: service.name,
      port: service.port,
      containerPort: containerPortOf(service),
      container: isContainer(service),
      published: service.exposure !== "internal",
      urlVariable: names.url,
      portVariable: names.port,
      deprecated: service.deprecated === true,
      ...(service.replacement ? { replacement: service.replacement } : {}),
    };
    byName.set(service.name, indexed);
    if (!byPort.has(service.port)) byPort.set(service.port, indexed);
    byContainerPort.set(indexed.containerPort, [
      ...(byContainerPort.get(indexed.containerPort) ?? []),
      indexed,
    ]);
  }
  return { byPort, byContainerPort, byName };
}
