/**
 * Compose drift: a hand-written compose file is parsed (not grepped), and each service's published
 * ports are compared with the registry. Pure: text in, matches out.
 */
import type { Alias, Document, Node, Scalar } from "yaml";
import { type ComposePortMatch, type DriftMatch, locateComposePorts, readPublished } from "./scan.ts";
import type { IndexedService, PortIndex } from "./scan-findings.ts";

/** A YAML file is worth parsing as compose when it has a top-level `services:` key and some ports. */
export function looksLikeCompose(text: string): boolean {
  return (text.startsWith("services:") || text.includes("\nservices:")) && text.includes("ports:");
}

/**
 * One `ports:` entry: a literal host port, or a `${VAR}` host port (no default), which is the form
 * the generated files use; then only the variable and the container port can drift.
 */
type PublishedPort = { published?: number; variable?: string; target?: number; text: string };

/** Where a drift finding points: the host port digits, or the part of a variable entry that drifts. */
type Spot = { offset: number; length: number };

/** `${NAME}`, `${NAME:?message}` or `${NAME?message}`, then `:C`, optionally after `IP:` and before `/tcp`. */
const VARIABLE_HOST =
  /^(?:[0-9.]+:|\[[0-9a-fA-F:]*\]:)?\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?\?[^}]*)?\}:(\d{1,5})(?:\/(?:tcp|udp))?$/;
const VARIABLE_ONLY = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?\?[^}]*)?\}$/;

function readVariableEntry(text: string): PublishedPort | undefined {
  const match = VARIABLE_HOST.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  return { variable: match[1], target: Number(match[2]), text };
}

/** `IP:H:C` or `H:C` (with a `${VAR:-H}` default), or a `${VAR}` host: the parts of one short entry. */
/** The variable of a `${NAME:-N}` host port (after an optional `IP:`). */
const DEFAULTED_HOST = /^(?:[0-9.]+:|\[[0-9a-fA-F:]*\]:)?\$\{([A-Za-z_][A-Za-z0-9_]*):?[-=]/;

function readShortEntry(entry: string): PublishedPort | undefined {
  const published = readPublished(entry, 0, entry.length);
  if (!published) return readVariableEntry(entry);
  const targetText =
    entry
      .replace(/\/(?:tcp|udp)$/, "")
      .split(":")
      .pop() ?? "";
  const target = /^\d{1,5}$/.test(targetText) ? Number(targetText) : undefined;
  const variable = DEFAULTED_HOST.exec(entry)?.[1];
  return { published: published.port, target, text: entry, ...(variable ? { variable } : {}) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The host and container port of one parsed `ports:` entry (short or long syntax). */
export function readPortEntry(entry: unknown): PublishedPort | undefined {
  if (typeof entry === "string") return readShortEntry(entry);
  if (!isRecord(entry)) return undefined;
  const raw = entry.published;
  const text = typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw : "";
  const target = typeof entry.target === "number" ? entry.target : undefined;
  const variable = VARIABLE_ONLY.exec(text)?.[1];
  if (variable) return { variable, target, text: `published: ${text}` };
  const match = /^(?:\$\{([A-Za-z_][A-Za-z0-9_]*):?-)?(\d{1,5})\}?$/.exec(text);
  if (!match?.[2]) return undefined;
  const defaulted = match[1] ? { variable: match[1] } : {};
  return { published: Number(match[2]), target, text: `published: ${match[2]}`, ...defaulted };
}

/** The service whose `.env.shared` port variable is `variable`. */
function ownerOfVariable(index: PortIndex, variable: string): IndexedService | undefined {
  for (const service of index.byName.values()) if (service.portVariable === variable) return service;
  return undefined;
}

/**
 * Drift of one entry of service `name`. `spots` says where to point: at the host port digits, or
 * for a variable entry at the variable or at the container port digits.
 */
function compareWithRegistry(
  name: string,
  mapping: PublishedPort,
  spots: { host: Spot; variable?: Spot; target?: Spot },
  index: PortIndex,
  hasRegisteredEntry: boolean,
  sidecars: ReadonlySet<string> = NO_SIDECARS,
): DriftMatch | undefined {
  const registered = index.byName.get(name);
  if (registered && !isRegisteredEntry(registered, mapping)) {
    const owner = ownerOfEntry(mapping, index);
    // A second port of this service, recorded as an entry without a container named after it
    // (rabbitmq-management for rabbitmq), or the port of a service that runs in this one's
    // network (`network_mode: service:NAME`), which Compose makes this one publish: both are where
    // they belong, in any file.
    if (owner && (isSecondPortOf(name, owner) || sidecars.has(owner.name))) return undefined;
    if (hasRegisteredEntry) return compareExtraEntry(registered, mapping, spots, index);
  }
  if (mapping.published === undefined) {
    return registered ? compareVariableEntry(registered, mapping, spots, index) : undefined;
  }
  const base = { ...spots.host, port: mapping.published };
  if (registered) {
    const expectedTarget = registered.containerPort;
    const replacement = `"\${${registered.portVariable}}:${expectedTarget}"`;
    if (mapping.published !== registered.port) {
      return {
        ...base,
        rule: "compose-port-mismatch",
        // A second port published in another file (an override) reads like this too.
        message: `service ${name} publishes ${mapping.published}, but the registry gives it ${registered.port}; use ${replacement}, or, for a second port of ${name}, record it as an entry without a container named ${name}-<purpose>`,
        service: name,
        replacement,
      };
    }
    if (mapping.target !== undefined && mapping.target !== expectedTarget) {
      return {
        ...base,
        rule: "compose-port-mismatch",
        message: `service ${name} maps to container port ${mapping.target}, but the registry gives ${expectedTarget}; use ${replacement}`,
        service: name,
        replacement,
      };
    }
    return undefined;
  }
  if (index.byPort.has(mapping.published)) return undefined;
  return {
    ...base,
    rule: "compose-port-unknown",
    message: `service ${name} publishes ${mapping.published} ("${mapping.text}"), which the registry does not know; register ${name} (npm run ports:new)`,
  };
}

const NO_SIDECARS: ReadonlySet<string> = new Set();

/** An entry without a container named `NAME-something`: how the registry records a second port of NAME. */
function isSecondPortOf(name: string, owner: IndexedService): boolean {
  return !owner.container && owner.name.startsWith(`${name}-`);
}

/** The registered service whose port (or port variable) an entry publishes. */
function ownerOfEntry(mapping: PublishedPort, index: PortIndex): IndexedService | undefined {
  if (mapping.published !== undefined) {
    const byPort = index.byPort.get(mapping.published);
    if (byPort) return byPort;
  }
  return mapping.variable ? ownerOfVariable(index, mapping.variable) : undefined;
}

/** For each service, the services that join its network (`network_mode: "service:NAME"`). */
function sidecarsByHost(services: Record<string, unknown>): Map<string, Set<string>> {
  const byHost = new Map<string, Set<string>>();
  for (const [name, definition] of Object.entries(services)) {
    const mode = isRecord(definition) ? definition.network_mode : undefined;
    if (typeof mode !== "string" || !mode.startsWith("service:")) continue;
    const host = mode.slice("service:".length);
    const attached = byHost.get(host) ?? new Set<string>();
    attached.add(name);
    byHost.set(host, attached);
  }
  return byHost;
}

/** The entry that publishes the service's registered port, by number or by its variable. */
function isRegisteredEntry(registered: IndexedService, mapping: PublishedPort | undefined): boolean {
  return mapping?.published === registered.port || mapping?.variable === registered.portVariable;
}

/** True when one of the entries publishes the registered port of service `name`. */
function hasRegisteredEntryOf(
  name: string,
  mappings: readonly (PublishedPort | undefined)[],
  index: PortIndex,
): boolean {
  const registered = index.byName.get(name);
  return registered !== undefined && mappings.some((mapping) => isRegisteredEntry(registered, mapping));
}

/**
 * A second port of a service whose registered port is published too (RabbitMQ's AMQP and its
 * management UI). The registry holds one port per service, so a second port is recorded as an
 * entry without a container named after the service (nothing is generated for it, and no other
 * service is given it). Another service's port there is a collision.
 */
function compareExtraEntry(
  registered: IndexedService,
  mapping: PublishedPort,
  spots: { host: Spot; variable?: Spot },
  index: PortIndex,
): DriftMatch | undefined {
  const besides = `besides its registered port ${registered.port}`;
  if (mapping.published === undefined) {
    const owner = mapping.variable ? ownerOfVariable(index, mapping.variable) : undefined;
    if (!owner) return undefined; // an unknown variable: its port cannot be told
    return {
      ...(spots.variable ?? spots.host),
      port: owner.port,
      rule: "compose-port-mismatch",
      message: `service ${registered.name} publishes \${${mapping.variable}}, the port of ${owner.name}, ${besides}; remove that entry, or publish it from ${owner.name}`,
      service: registered.name,
    };
  }
  const owner = index.byPort.get(mapping.published);
  if (owner) {
    return {
      ...spots.host,
      port: mapping.published,
      rule: "compose-port-mismatch",
      message: `service ${registered.name} publishes ${mapping.published} ("${mapping.text}"), the port of ${owner.name}, ${besides}; remove that entry, or publish it from ${owner.name}`,
      service: registered.name,
    };
  }
  return {
    ...spots.host,
    port: mapping.published,
    rule: "compose-port-unknown",
    message: `service ${registered.name} publishes ${mapping.published} ("${mapping.text}") ${besides}, and the registry does not know it; record it as an entry without a container named ${registered.name}-<purpose> (npm run ports:new -- --name ${registered.name}-<purpose> --no-container), so no other service is given it`,
  };
}

/** A `${VAR}:C` entry of a registered service: another service's variable, or another container port. */
function compareVariableEntry(
  registered: IndexedService,
  mapping: PublishedPort,
  spots: { host: Spot; variable?: Spot; target?: Spot },
  index: PortIndex,
): DriftMatch | undefined {
  const replacement = `"\${${registered.portVariable}}:${registered.containerPort}"`;
  const owner = mapping.variable ? ownerOfVariable(index, mapping.variable) : undefined;
  if (owner && owner.name !== registered.name) {
    return {
      ...(spots.variable ?? spots.host),
      port: owner.port,
      rule: "compose-port-mismatch",
      message: `service ${registered.name} publishes \${${mapping.variable}}, the port of ${owner.name}; use ${replacement}`,
      service: registered.name,
      replacement,
    };
  }
  if (mapping.target !== undefined && mapping.target !== registered.containerPort) {
    return {
      ...(spots.target ?? spots.host),
      port: mapping.target,
      rule: "compose-port-mismatch",
      message: `service ${registered.name} maps to container port ${mapping.target}, but the registry gives ${registered.containerPort}; use ${replacement}`,
      service: registered.name,
      replacement,
    };
  }
  return undefined;
}

/**
 * Drift between a compose file and the registry: a published port nobody registered, or a service
 * whose name is registered but whose host or container port differs (also behind a `${VAR}` host
 * port). The file is parsed with Bun's native YAML parser; positions come from the line reader,
 * and only when both agree entry by entry. Otherwise (variable host ports, anchors and aliases,
 * odd layouts) the slower position-keeping parser decides. Unparsable files yield nothing: the
 * line patterns still see them.
 */
export function matchComposeDrift(text: string, index: PortIndex): DriftMatch[] {
  if (!looksLikeCompose(text)) return [];
  let data: unknown;
  try {
    data = Bun.YAML.parse(text);
  } catch {
    return [];
  }
  const services = isRecord(data) ? data.services : undefined;
  if (!isRecord(services)) return [];
  const located = new Map<string, Map<number, ComposePortMatch>>();
  let locatedCount = 0;
  for (const match of locateComposePorts(text)) {
    if (match.service === undefined) continue;
    const byItem = located.get(match.service) ?? new Map<number, ComposePortMatch>();
    byItem.set(match.item, match);
    located.set(match.service, byItem);
    locatedCount++;
  }
  const matches: DriftMatch[] = [];
  const sidecars = sidecarsByHost(services);
  let parsedCount = 0;
  for (const [name, definition] of Object.entries(services)) {
    const ports = isRecord(definition) ? definition.ports : undefined;
    if (!Array.isArray(ports)) continue;
    const mappings = ports.map(readPortEntry);
    const hasRegisteredEntry = hasRegisteredEntryOf(name, mappings, index);
    for (let item = 0; item < ports.length; item++) {
      const mapping = mappings[item];
      if (!mapping) continue;
      if (mapping.published === undefined) {
        // Only the position-keeping parser can point into a variable entry.
        if (index.byName.has(name)) return matchComposeDriftPrecisely(text, index);
        continue;
      }
      parsedCount++;
      const at = located.get(name)?.get(item);
      if (!at || at.port !== mapping.published) return matchComposeDriftPrecisely(text, index);
      const drift = compareWithRegistry(
        name,
        mapping,
        { host: { offset: at.offset, length: at.length } },
        index,
        hasRegisteredEntry,
        sidecars.get(name),
      );
      if (drift) matches.push(drift);
    }
  }
  if (parsedCount !== locatedCount) return matchComposeDriftPrecisely(text, index);
  return matches;
}

let yamlModule: typeof import("yaml") | undefined;

/** `yaml` is loaded on first use: the fast path and the worker thread never pay for it. */
function loadYaml(): typeof import("yaml") {
  yamlModule ??= require("yaml") as typeof import("yaml");
  return yamlModule;
}

type LocatedEntry = { mapping: PublishedPort; spots: { host: Spot; variable?: Spot; target?: Spot } };

/** The spot of `part` inside the text between `from` and `to`, searched from the end (`:C` is last). */
function spotOf(source: string, from: number, to: number, part: string, fromEnd = false): Spot | undefined {
  const window = source.slice(from, to);
  const at = fromEnd ? window.lastIndexOf(part) : window.indexOf(part);
  return at < 0 ? undefined : { offset: from + at, length: part.length };
}

/** A short-syntax entry with its positions; undefined when escapes or folding would make them lie. */
function readScalarEntry(node: Scalar, source: string): LocatedEntry | undefined {
  const range = node.range;
  if (!range) return undefined;
  const raw = source.slice(range[0], range[1]);
  const quoteOffset = raw.startsWith('"') || raw.startsWith("'") ? 1 : 0;
  const from = range[0] + quoteOffset;
  const value = String(node.value);
  const to = from + value.length;
  if (source.slice(from, to) !== value) return undefined;
  const published = readPublished(source, from, to);
  const mapping = readShortEntry(value);
  if (!mapping) return undefined;
  if (published)
    return { mapping, spots: { host: { offset: published.digitsAt, length: published.length } } };
  const variable = spotOf(source, from, to, `\${${mapping.variable}`);
  const target = spotOf(source, from, to, `:${mapping.target}`, true);
  if (!variable || !target) return undefined;
  return {
    mapping,
    spots: {
      host: variable,
      variable,
      target: { offset: target.offset + 1, length: target.length - 1 },
    },
  };
}

/** A long-syntax entry (`published:` / `target:`) with its positions. */
function readLongEntry(node: Node, source: string): LocatedEntry | undefined {
  const { isMap, isScalar } = loadYaml();
  if (!isMap(node)) return undefined;
  const publishedNode = node.get("published", true);
  const targetNode = node.get("target", true);
  if (!isScalar(publishedNode) || !publishedNode.range) return undefined;
  const target =
    isScalar(targetNode) && /^\d{1,5}$/.test(String(targetNode.value)) ? Number(targetNode.value) : undefined;
  const targetSpot =
    target !== undefined && isScalar(targetNode) && targetNode.range
      ? spotOf(source, targetNode.range[0], targetNode.range[1], String(target))
      : undefined;
  const raw = source.slice(publishedNode.range[0], publishedNode.range[1]);
  const variable = VARIABLE_ONLY.exec(raw.replace(/^["']|["']$/g, ""))?.[1];
  if (variable) {
    const spot = spotOf(source, publishedNode.range[0], publishedNode.range[1], `\${${variable}`);
    if (!spot) return undefined;
    return {
      mapping: { variable, target, text: `published: \${${variable}}` },
      spots: { host: spot, variable: spot, ...(targetSpot ? { target: targetSpot } : {}) },
    };
  }
  const match = /^["']?(?:\$\{([A-Za-z_][A-Za-z0-9_]*):?-)?(\d{1,5})/.exec(raw);
  if (!match?.[2]) return undefined;
  const digitsAt = publishedNode.range[0] + raw.indexOf(match[2]);
  const defaulted = match[1] ? { variable: match[1] } : {};
  return {
    mapping: { published: Number(match[2]), target, text: `published: ${match[2]}`, ...defaulted },
    spots: { host: { offset: digitsAt, length: match[2].length } },
  };
}

/**
 * The `ports:` list of a service, and where to point for its entries: their own place, or the
 * alias (`ports: *shared`) that brings another service's list in.
 */
function portsOf(document: Document, value: Node): { items: readonly unknown[]; alias?: Spot } | undefined {
  const { isAlias, isMap, isSeq } = loadYaml();
  if (!isMap(value)) return undefined;
  let ports = value.get("ports", true) as Node | undefined;
  let alias: Spot | undefined;
  if (isAlias(ports)) {
    const range = (ports as Alias).range;
    alias = range ? { offset: range[0], length: range[1] - range[0] } : undefined;
    ports = (ports as Alias).resolve(document) as Node | undefined;
  }
  if (!isSeq(ports)) return undefined;
  return { items: ports.items, ...(alias ? { alias } : {}) };
}

/** The same comparison with `yaml`'s position-keeping parser, for layouts the line reader does not follow. */
export function matchComposeDriftPrecisely(text: string, index: PortIndex): DriftMatch[] {
  const { isMap, isScalar, parseDocument } = loadYaml();
  const document = parseDocument(text, {
    version: "1.2",
    schema: "core",
    prettyErrors: false,
    uniqueKeys: false,
  });
  if (document.errors.length > 0) return [];
  const services = document.get("services", true);
  if (!isMap(services)) return [];
  const matches: DriftMatch[] = [];
  const plainServices = services.toJSON() as unknown;
  const sidecars = sidecarsByHost(isRecord(plainServices) ? plainServices : {});
  for (const pair of services.items) {
    if (!isScalar(pair.key) || !pair.value) continue;
    const name = String(pair.key.value);
    const ports = portsOf(document, pair.value as Node);
    if (!ports) continue;
    const entries = ports.items.map((item) =>
      isScalar(item) ? readScalarEntry(item, text) : readLongEntry(item as Node, text),
    );
    const hasRegisteredEntry = hasRegisteredEntryOf(
      name,
      entries.map((entry) => entry?.mapping),
      index,
    );
    for (const entry of entries) {
      if (!entry) continue;
      // Entries an alias brings in point at the alias, so each service's finding sits in its own block.
      const spots = ports.alias
        ? { host: ports.alias, variable: ports.alias, target: ports.alias }
        : entry.spots;
      const drift = compareWithRegistry(
        name,
        entry.mapping,
        spots,
        index,
        hasRegisteredEntry,
        sidecars.get(name),
      );
      if (drift) matches.push(drift);
    }
  }
  return matches;
}
