/**
 * Values derived from the registry: env variable names, hosts, URLs, ranges, networks.
 * Every generator and checker reads them from here, so `.env.shared`, compose files, the
 * health script, the docs page and the scanner can never disagree.
 */
import { compareCodeUnits } from "./compare.ts";
import { skipOptimizingCompiler } from "./jit.ts";
import { type Protocol, RANGE_PATTERN } from "./registry-constants.ts";
import type { Registry, Service } from "./schema.ts";

export { compareCodeUnits };

export const LINUX_EPHEMERAL = { min: 32768, max: 60999 } as const;
/** The name a container uses to reach a service that runs natively on the host. */
export const DOCKER_HOST_GATEWAY = "host.docker.internal";

const SCHEMES: Record<Protocol, string> = {
  http: "http",
  https: "https",
  grpc: "grpc",
  ws: "ws",
  tcp: "tcp",
  udp: "udp",
  postgres: "postgres",
  mysql: "mysql",
  mongodb: "mongodb",
  redis: "redis",
  rabbitmq: "amqp",
};

export const HTTP_PROTOCOLS: readonly Protocol[] = ["http", "https"];

export type PortRange = { min: number; max: number };

export function parseRange(text: string): PortRange | undefined {
  const match = RANGE_PATTERN.exec(text);
  if (!match) return undefined;
  return { min: Number(match[1]), max: Number(match[2]) };
}

export function rangeSize(range: PortRange): number {
  return Math.max(0, range.max - range.min + 1);
}

export function isEphemeralPort(port: number): boolean {
  return port >= LINUX_EPHEMERAL.min && port <= LINUX_EPHEMERAL.max;
}

/** `telegram-mtproto` → `TELEGRAM_MTPROTO`. */
export function toEnvPrefix(serviceName: string): string {
  let prefix = envPrefixes.get(serviceName);
  if (prefix === undefined) {
    prefix = serviceName.toUpperCase().replaceAll("-", "_");
    if (envPrefixes.size < 100_000) envPrefixes.set(serviceName, prefix);
  }
  return prefix;
}
const envPrefixes = new Map<string, string>();

export type EnvNames = {
  port: string;
  host: string;
  url: string;
  gatewayPath?: string;
  gatewayUrl?: string;
};

type CachedEnvNames = { exposure: unknown; hasGateway: boolean; names: EnvNames };
/** By service name: the loader's copies of a service and the registry's own share one entry. */
const envNameCache = new Map<string, CachedEnvNames>();

/** The variable names of a service (remembered per name; do not mutate the result). */
export function deriveEnvNames(
  service: Pick<Service, "name" | "exposure">,
  registry?: Pick<Registry, "gatewayUrl">,
): EnvNames {
  const hasGateway = Boolean(registry?.gatewayUrl);
  const cached = envNameCache.get(service.name);
  if (cached && cached.exposure === service.exposure && cached.hasGateway === hasGateway) {
    return cached.names;
  }
  const names = computeEnvNames(service, hasGateway);
  if (envNameCache.size < 100_000) {
    envNameCache.set(service.name, { exposure: service.exposure, hasGateway, names });
  }
  return names;
}

function computeEnvNames(service: Pick<Service, "name" | "exposure">, hasGateway: boolean): EnvNames {
  const prefix = toEnvPrefix(service.name);
  const names: EnvNames = { port: `${prefix}_PORT`, host: `${prefix}_HOST`, url: `${prefix}_URL` };
  if (service.exposure === "gateway") {
    names.gatewayPath = `${prefix}_GATEWAY_PATH`;
    if (hasGateway) names.gatewayUrl = `${prefix}_GATEWAY_URL`;
  }
  return names;
}

export function schemeOf(protocol: Protocol): string {
  return SCHEMES[protocol];
}

export function isContainer(service: Pick<Service, "container">): boolean {
  return service.container === true;
}

/** The port the process listens on inside its container (defaults to the published port). */
export function containerPortOf(service: Pick<Service, "port" | "containerPort">): number {
  return service.containerPort ?? service.port;
}

const NO_NETWORKS: readonly string[] = Object.freeze([]);

/** The service's networks as a list (the registry's own list when it has one: do not mutate). */
export function networksOf(service: Pick<Service, "network">): readonly string[] {
  if (service.network === undefined) return NO_NETWORKS;
  return typeof service.network === "string" ? [service.network] : service.network;
}

/** Where a consumer stands when it reaches a service. */
export type Vantage = "host" | "container";

export type Endpoint = { readonly host: string; readonly port: number; readonly url: string };

/**
 * How `target` is reached from `vantage` (remembered per service; do not mutate the result).
 * - From the host: `localhost` and the published port.
 * - From a container: a container target by its DNS name and container port; a native target
 *   through `host.docker.internal` and its host port (never `localhost`, which is the container
 *   itself).
 */
export function endpointOf(target: Service, vantage: Vantage): Endpoint {
  const cache = vantage === "host" ? hostEndpoints : containerEndpoints;
  const cached = cache.get(target);
  if (
    cached &&
    cached.name === target.name &&
    cached.port === target.port &&
    cached.containerPort === target.containerPort &&
    cached.protocol === target.protocol &&
    cached.container === target.container
  ) {
    return cached.endpoint;
  }
  const endpoint = computeEndpoint(target, vantage);
  cache.set(target, {
    name: target.name,
    port: target.port,
    containerPort: target.containerPort,
    protocol: target.protocol,
    container: target.container,
    endpoint,
  });
  return endpoint;
}

type CachedEndpoint = Pick<Service, "name" | "port" | "containerPort" | "protocol" | "container"> & {
  endpoint: Endpoint;
};
/** Per service and vantage (every generated file asks again); checked against the fields it reads. */
const hostEndpoints = new WeakMap<Service, CachedEndpoint>();
const containerEndpoints = new WeakMap<Service, CachedEndpoint>();

function computeEndpoint(target: Service, vantage: Vantage): Endpoint {
  let host: string;
  let port: number;
  if (vantage === "host") {
    host = "localhost";
    port = target.port;
  } else if (isContainer(target)) {
    host = target.name;
    port = containerPortOf(target);
  } else {
    host = DOCKER_HOST_GATEWAY;
    port = target.port;
  }
  return { host, port, url: `${schemeOf(target.protocol)}://${host}:${port}` };
}

/**
 * The values written to `.env.shared`: the DNS name for containers and `localhost` for native
 * services, as seen from the shared Docker network.
 */
export function sharedEndpointOf(service: Service): Endpoint {
  return isContainer(service) ? endpointOf(service, "container") : endpointOf(service, "host");
}

const serviceIndexes = new WeakMap<readonly Service[], Map<string, Service>>();

/** Looks a service up by name through an index built once per services array. */
export function findService(registry: Pick<Registry, "services">, name: string): Service | undefined {
  let index = serviceIndexes.get(registry.services);
  if (!index) {
    index = new Map();
    for (const service of registry.services) if (!index.has(service.name)) index.set(service.name, service);
    serviceIndexes.set(registry.services, index);
  }
  return index.get(name);
}

/** Stack names in code-unit order (never locale order, so output is the same on every machine). */
export function sortedStacks(registry: Pick<Registry, "ranges">): string[] {
  // The default sort compares UTF-16 code units, as compareCodeUnits does.
  return Object.keys(registry.ranges).sort();
}

const stackIndexes = new WeakMap<readonly Service[], Map<string, Service[]>>();

/** Services of one stack, ordered by port then name (grouped once per services array). */
export function servicesOfStack(registry: Pick<Registry, "services">, stack: string): Service[] {
  let index = stackIndexes.get(registry.services);
  if (!index) {
    index = new Map();
    for (const service of registry.services) {
      const group = index.get(service.stack);
      if (group) group.push(service);
      else index.set(service.stack, [service]);
    }
    for (const group of index.values())
      group.sort((a, b) => a.port - b.port || compareCodeUnits(a.name, b.name));
    stackIndexes.set(registry.services, index);
  }
  return [...(index.get(stack) ?? [])];
}

const sortedByName = new WeakMap<readonly Service[], Service[]>();

/** Every service in code-unit order of name (sorted once per services array; do not mutate). */
export function servicesByName(registry: Pick<Registry, "services">): readonly Service[] {
  let sorted = sortedByName.get(registry.services);
  if (!sorted) {
    sorted = [...registry.services].sort((a, b) => compareCodeUnits(a.name, b.name));
    sortedByName.set(registry.services, sorted);
  }
  return sorted;
}

export type StackUsage = {
  stack: string;
  range: string;
  min: number;
  max: number;
  size: number;
  used: number;
  free: number;
  nextFree: number[];
};

/** Range utilisation per stack, with up to `nextFreeCount` free ports (skipping registered and ephemeral ones). */
/** The port of `gatewayUrl`, which no service may be given (unless it is the gateway itself). */
export function gatewayPortOf(registry: Pick<Registry, "gatewayUrl">): number | undefined {
  if (!registry.gatewayUrl) return undefined;
  try {
    const url = new URL(registry.gatewayUrl);
    return url.port === "" ? undefined : Number(url.port);
  } catch {
    return undefined;
  }
}

/** The ports nothing new may take: every registered port, and the gateway's. */
export function takenPorts(registry: Registry): Set<number> {
  const taken = new Set(registry.services.map((service) => service.port));
  const gateway = gatewayPortOf(registry);
  if (gateway !== undefined) taken.add(gateway);
  return taken;
}

export function stackUsage(registry: Registry, nextFreeCount = 3): StackUsage[] {
  const taken = takenPorts(registry);
  const sortedTaken = [...taken].sort((a, b) => a - b);
  return sortedStacks(registry).map((stack) => {
    const rangeText = registry.ranges[stack] ?? "";
    const range = parseRange(rangeText) ?? { min: 0, max: -1 };
    const size = rangeSize(range);
    const used = servicesOfStack(registry, stack).filter(
      (service) => service.port >= range.min && service.port <= range.max,
    ).length;
    // Free counts every port taken inside the range: another stack's (ranges may overlap) and the gateway's.
    const takenInRange = countBetween(sortedTaken, range.min, range.max);
    const nextFree: number[] = [];
    for (let port = range.min; port <= range.max && nextFree.length < nextFreeCount; port++) {
      if (!taken.has(port) && !isEphemeralPort(port)) nextFree.push(port);
    }
    return {
      stack,
      range: rangeText,
      min: range.min,
      max: range.max,
      size,
      used,
      free: Math.max(0, size - takenInRange),
      nextFree,
    };
  });
}

/** A range's use in whole percent: never 100 before it is full, never 0 once a port is used. */
export function usagePercent(used: number, size: number): number {
  if (size <= 0) return 0;
  const percent = Math.round((used * 100) / size);
  if (percent >= 100 && used < size) return 99;
  if (percent === 0 && used > 0) return 1;
  return percent;
}

/** Why a range offers no next free port: every port taken, or only ephemeral ones left. */
export function describeNoFreePort(usage: Pick<StackUsage, "free">): string {
  return usage.free > 0 ? "none outside the ephemeral range" : "full";
}

/** How many of the sorted `values` lie in [min, max]. */
function countBetween(values: readonly number[], min: number, max: number): number {
  const firstAtLeast = (bound: number) => {
    let low = 0;
    let high = values.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((values[middle] as number) < bound) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  return max < min ? 0 : firstAtLeast(max + 1) - firstAtLeast(min);
}

// Called once or twice per service in a single pass: the optimizing compiler costs more than it
// saves (lib/jit.ts).
skipOptimizingCompiler(deriveEnvNames, computeEnvNames, toEnvPrefix, endpointOf, computeEndpoint);
