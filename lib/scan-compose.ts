/**
 * Compose drift: a hand-written compose file is parsed (not grepped), and each service's published
 * ports are compared with the registry. Pure: text in, matches out.
 */
import type { Node, Scalar } from "yaml";
import { type ComposePortMatch, type DriftMatch, locateComposePorts, readPublished } from "./scan.ts";
import type { PortIndex } from "./scan-findings.ts";

/** A YAML file is worth parsing as compose when it has a top-level `services:` key and some ports. */
export function looksLikeCompose(text: string): boolean {
  return (text.startsWith("services:") || text.includes("\nservices:")) && text.includes("ports:");
}

type Mapping = { published: number; target?: number; digitsAt: number; length: number; text: string };

function readScalarMapping(node: Scalar, source: string): Mapping | undefined {
  const range = node.range;
  if (!range) return undefined;
  const raw = source.slice(range[0], range[1]);
  const quoteOffset = raw.startsWith('"') || raw.startsWith("'") ? 1 : 0;
  const from = range[0] + quoteOffset;
  const value = String(node.value);
  const to = from + value.length;
  if (source.slice(from, to) !== value) return undefined; // escapes or folding: positions would lie
  const published = readPublished(source, from, to);
  if (!published) return undefined;
  const targetText =
    value
      .replace(/\/(?:tcp|udp)$/, "")
      .split(":")
      .pop() ?? "";
  const target = /^\d{1,5}$/.test(targetText) ? Number(targetText) : undefined;
  return {
    published: published.port,
    target,
    digitsAt: published.digitsAt,
    length: published.length,
    text: value,
  };
}

let yamlModule: typeof import("yaml") | undefined;

/** `yaml` is loaded on first use: the fast path and the worker thread never pay for it. */
function loadYaml(): typeof import("yaml") {
  yamlModule ??= require("yaml") as typeof import("yaml");
  return yamlModule;
}

function readLongMapping(node: Node, source: string): Mapping | undefined {
  const { isMap, isScalar } = loadYaml();
  if (!isMap(node)) return undefined;
  const publishedNode = node.get("published", true);
  const targetNode = node.get("target", true);
  if (!isScalar(publishedNode) || !publishedNode.range) return undefined;
  const raw = source.slice(publishedNode.range[0], publishedNode.range[1]);
  const match = /^["']?(?:\$\{[A-Za-z_][A-Za-z0-9_]*:?-)?(\d{1,5})/.exec(raw);
  if (!match?.[1]) return undefined;
  const digitsAt = publishedNode.range[0] + raw.indexOf(match[1]);
  const target =
    isScalar(targetNode) && /^\d{1,5}$/.test(String(targetNode.value)) ? Number(targetNode.value) : undefined;
  return {
    published: Number(match[1]),
    target,
    digitsAt,
    length: match[1].length,
    text: `published: ${match[1]}`,
  };
}

type PublishedPort = { published: number; target?: number; text: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The host and container port of one parsed `ports:` entry (short or long syntax). */
export function readPortEntry(entry: unknown): PublishedPort | undefined {
  if (typeof entry === "string") {
    const published = readPublished(entry, 0, entry.length);
    if (!published) return undefined;
    const targetText =
      entry
        .replace(/\/(?:tcp|udp)$/, "")
        .split(":")
        .pop() ?? "";
    const target = /^\d{1,5}$/.test(targetText) ? Number(targetText) : undefined;
    return { published: published.port, target, text: entry };
  }
  if (!isRecord(entry)) return undefined;
  const raw = entry.published;
  const text = typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw : "";
  const match = /^(?:\$\{[A-Za-z_][A-Za-z0-9_]*:?-)?(\d{1,5})\}?$/.exec(text);
  if (!match?.[1]) return undefined;
  const target = typeof entry.target === "number" ? entry.target : undefined;
  return { published: Number(match[1]), target, text: `published: ${match[1]}` };
}

function compareWithRegistry(
  name: string,
  mapping: PublishedPort,
  base: { offset: number; length: number; port: number },
  index: PortIndex,
): DriftMatch | undefined {
  const registered = index.byName.get(name);
  if (registered) {
    const expectedTarget = registered.containerPort;
    const variable = registered.portVariable;
    const replacement = `"\${${variable}}:${expectedTarget}"`;
    if (mapping.published !== registered.port) {
      return {
        ...base,
        rule: "compose-port-mismatch",
        message: `service ${name} publishes ${mapping.published}, but the registry gives it ${registered.port}; use ${replacement}`,
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

/**
 * Drift between a compose file and the registry: a published port nobody registered, or a service
 * whose name is registered but whose host or container port differs. The file is parsed with Bun's
 * native YAML parser; positions come from the line reader, and only when both agree entry by entry.
 * Otherwise (anchors, merges, odd layouts) the slower position-keeping parser decides. Unparsable
 * files yield nothing: the line patterns still see them.
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
  let parsedCount = 0;
  for (const [name, definition] of Object.entries(services)) {
    const ports = isRecord(definition) ? definition.ports : undefined;
    if (!Array.isArray(ports)) continue;
    for (let item = 0; item < ports.length; item++) {
      const mapping = readPortEntry(ports[item]);
      if (!mapping) continue;
      parsedCount++;
      const at = located.get(name)?.get(item);
      if (!at || at.port !== mapping.published) return matchComposeDriftPrecisely(text, index);
      const drift = compareWithRegistry(
        name,
        mapping,
        { offset: at.offset, length: at.length, port: at.port },
        index,
      );
      if (drift) matches.push(drift);
    }
  }
  if (parsedCount !== locatedCount) return matchComposeDriftPrecisely(text, index);
  return matches;
}

/** The same comparison with `yaml`'s position-keeping parser, for layouts the line reader does not follow. */
export function matchComposeDriftPrecisely(text: string, index: PortIndex): DriftMatch[] {
  const { isMap, isScalar, isSeq, parseDocument } = loadYaml();
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
  for (const pair of services.items) {
    if (!isScalar(pair.key) || !isMap(pair.value)) continue;
    const name = String(pair.key.value);
    const ports = pair.value.get("ports", true);
    if (!isSeq(ports)) continue;
    for (const item of ports.items) {
      const mapping = isScalar(item) ? readScalarMapping(item, text) : readLongMapping(item as Node, text);
      if (!mapping) continue;
      const base = { offset: mapping.digitsAt, length: mapping.length, port: mapping.published };
      const drift = compareWithRegistry(name, mapping, base, index);
      if (drift) matches.push(drift);
    }
  }
  return matches;
}
