/**
 * Ports against this machine: which port a new service of a stack should get, whether a chosen
 * port is acceptable, and how the registry compares with what listens now (ports:doctor).
 * Pure: the registry and a snapshot of this machine's listeners in, values out.
 */
import * as v from "valibot";
import {
  compareCodeUnits,
  gatewayPortOf,
  isEphemeralPort,
  LINUX_EPHEMERAL,
  parseRange,
  stackUsage,
  takenPorts,
} from "./derive.ts";
import { describeOwner, type Listener } from "./listeners.ts";
import { type Protocol, type Registry, serviceSchema } from "./schema.ts";

export type PortSuggestion = {
  stack: string;
  range: string;
  /** The lowest acceptable port, or undefined when the range is full. */
  port?: number;
  /** One line for people, for example "3405: first free in apis 3400-3499; 3404 is in use by pid 812 (node)". */
  explanation: string;
};

/** The listener that best describes who holds `port`: one with a known owner if there is one. */
export function findHolder(listeners: readonly Listener[], port: number): Listener | undefined {
  const holders = listeners.filter((listener) => listener.port === port);
  return holders.find((listener) => listener.pid !== undefined) ?? holders[0];
}

/** Lowest port of the stack's range that is not registered, not ephemeral and not listening now. */
export function suggestPort(
  registry: Registry,
  stack: string,
  listeners: readonly Listener[],
): PortSuggestion {
  const rangeText = registry.ranges[stack] ?? "";
  const range = parseRange(rangeText);
  const label = `${stack} ${rangeText}`;
  if (!range) return { stack, range: rangeText, explanation: `stack ${stack} has no valid range` };
  const registered = takenPorts(registry);
  const busy: string[] = [];
  let ephemeral = 0;
  let taken = 0;
  for (let port = range.min; port <= range.max; port++) {
    if (registered.has(port)) {
      taken++;
      continue;
    }
    if (isEphemeralPort(port)) {
      ephemeral++;
      continue;
    }
    const holder = findHolder(listeners, port);
    if (holder) {
      busy.push(`${port} is in use by ${describeOwner(holder)}`);
      continue;
    }
    const notes = [...busy];
    if (ephemeral > 0) notes.push(`${ephemeral} port(s) skipped in the ephemeral range`);
    return {
      stack,
      range: rangeText,
      port,
      explanation: [`${port}: first free in ${label}`, ...notes].join("; "),
    };
  }
  const counts = [`${taken} registered`, `${busy.length} in use`];
  if (ephemeral > 0) counts.push(`${ephemeral} ephemeral`);
  return { stack, range: rangeText, explanation: `no free port in ${label} (${counts.join(", ")})` };
}

/**
 * Why `port` cannot be given to a new service of `stack`, or undefined when it can. The schema's
 * own port rule comes first, so the message matches what `ports:validate` would say.
 */
export function checkPortChoice(
  registry: Registry,
  stack: string,
  port: number,
  listeners: readonly Listener[],
  options: { allowInUse?: boolean } = {},
): string | undefined {
  const parsed = v.safeParse(serviceSchema.entries.port, port, { abortPipeEarly: true });
  if (!parsed.success) return parsed.issues[0]?.message;
  const rangeText = registry.ranges[stack] ?? "";
  const range = parseRange(rangeText);
  if (range && (port < range.min || port > range.max)) return `must lie within ${stack} ${rangeText}`;
  const owner = registry.services.find((service) => service.port === port);
  if (owner) return `${port} is already registered to ${owner.name}`;
  if (port === gatewayPortOf(registry))
    return `${port} is the gateway's port (gatewayUrl ${registry.gatewayUrl})`;
  // A team that turned the ephemeral-range rule off has decided those ports are fine.
  if (isEphemeralPort(port) && registry.rules?.["port-ephemeral"] !== "off") {
    return `${port} is in the Linux ephemeral range ${LINUX_EPHEMERAL.min}-${LINUX_EPHEMERAL.max}; outgoing connections may take it`;
  }
  const holder = findHolder(listeners, port);
  if (holder && !options.allowInUse) {
    const transport = `${holder.transport}${holder.family === 6 ? "6" : ""}`;
    return `${port} is in use by ${describeOwner(holder)} (${transport}); if that is the service itself, already running, add --allow-in-use`;
  }
  return undefined;
}

/** Parses `--port`: "auto" (or nothing) means the suggestion; anything else must be a decimal integer. */
export function parsePortText(text: string): number | "auto" | undefined {
  const trimmed = text.trim();
  if (trimmed === "" || trimmed === "auto") return "auto";
  return /^\d{1,5}$/.test(trimmed) ? Number(trimmed) : undefined;
}

/** The stacks a new service can join, with how full each range is (a select hint). */
export function describeStacks(registry: Registry): { stack: string; hint: string }[] {
  return stackUsage(registry, 0).map((usage) => ({
    stack: usage.stack,
    hint: `${usage.range} · ${usage.used} used, ${usage.free} free`,
  }));
}

/** Owners already in the registry, most frequent first, then by name. */
export function listOwners(registry: Registry): string[] {
  const counts = new Map<string, number>();
  for (const service of registry.services) counts.set(service.owner, (counts.get(service.owner) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || compareCodeUnits(a[0], b[0]))
    .map(([owner]) => owner);
}

// ---------------------------------------------------------------------------------------------
// Occupancy: the registry compared with what listens on this machine (for ports:doctor)

/** One socket holding a port, as reported to people and in `--json`. */
export type Holder = {
  transport: Listener["transport"];
  family: Listener["family"];
  address: string;
  pid?: number;
  command?: string;
  isContainerProcess: boolean;
};

export type RegisteredInUse = {
  service: string;
  stack: string;
  port: number;
  isContainer: boolean;
  holders: Holder[];
};
export type UnknownListener = { port: number; stack: string; range: string; holders: Holder[] };
export type ContainerPortTaken = { service: string; port: number; holders: Holder[] };

export type Occupancy = {
  /** Registered ports some process holds right now (information, not a conflict by itself). */
  inUse: RegisteredInUse[];
  /** Listeners on ports inside a declared range that no service registers (conflict). */
  unknown: UnknownListener[];
  /** Container services whose port a process outside any container holds (conflict). */
  containerPortsTaken: ContainerPortTaken[];
};

function toHolder(listener: Listener): Holder {
  const holder: Holder = {
    transport: listener.transport,
    family: listener.family,
    address: listener.address,
    isContainerProcess: listener.isContainerProcess,
  };
  if (listener.pid !== undefined) holder.pid = listener.pid;
  if (listener.command !== undefined) holder.command = listener.command;
  return holder;
}

/** The transport a service's port is bound with: UDP for `udp`, TCP for every other protocol. */
export function transportOf(protocol: Protocol): Listener["transport"] {
  return protocol === "udp" ? "udp" : "tcp";
}

export function inspectOccupancy(registry: Registry, listeners: readonly Listener[]): Occupancy {
  const byPort = new Map<number, Holder[]>();
  for (const listener of listeners) {
    const holders = byPort.get(listener.port) ?? [];
    holders.push(toHolder(listener));
    byPort.set(listener.port, holders);
  }
  // The gateway's port is the registry's too: a listener there is not unknown.
  const registered = takenPorts(registry);
  const inUse: RegisteredInUse[] = [];
  const containerPortsTaken: ContainerPortTaken[] = [];
  const services = [...registry.services].sort((a, b) => a.port - b.port || compareCodeUnits(a.name, b.name));
  for (const service of services) {
    const transport = transportOf(service.protocol);
    const holders = byPort.get(service.port)?.filter((holder) => holder.transport === transport);
    if (!holders || holders.length === 0) continue;
    const isContainerService = service.container === true;
    inUse.push({
      service: service.name,
      stack: service.stack,
      port: service.port,
      isContainer: isContainerService,
      holders,
    });
    const outsiders = holders.filter((holder) => holder.pid !== undefined && !holder.isContainerProcess);
    // An internal container publishes nothing: a host process on that number takes nothing from it.
    const isPublished = service.exposure !== "internal";
    if (isContainerService && isPublished && outsiders.length > 0) {
      containerPortsTaken.push({ service: service.name, port: service.port, holders: outsiders });
    }
  }
  const unknown: UnknownListener[] = [];
  const stacks = stackUsage(registry, 0);
  for (const [port, holders] of [...byPort.entries()].sort((a, b) => a[0] - b[0])) {
    if (registered.has(port)) continue;
    const stack = stacks.find((usage) => port >= usage.min && port <= usage.max);
    if (stack) unknown.push({ port, stack: stack.stack, range: stack.range, holders });
  }
  return { inUse, unknown, containerPortsTaken };
}
