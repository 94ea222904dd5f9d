/**
 * Compose drift: a hand-written compose file is parsed (not grepped), and each service's published
 * ports are compared with the registry. Pure: text in, matches out.
 */
import { isMap, isScalar, isSeq, type Node, parseDocument, type Scalar } from "yaml";
import { containerPortOf, deriveEnvNames } from "./derive.ts";
import { type DriftMatch, type PortIndex, readPublished } from "./scan.ts";

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

function readLongMapping(node: Node, source: string): Mapping | undefined {
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

/**
 * Drift between a compose file and the registry: a published port nobody registered, or a service
 * whose name is registered but whose host or container port differs. Unparsable files yield nothing
 * (the line patterns still see them).
 */
export function matchComposeDrift(text: string, index: PortIndex): DriftMatch[] {
  if (!looksLikeCompose(text)) return [];
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
    const registered = index.byName.get(name);
    for (const item of ports.items) {
      const mapping = isScalar(item) ? readScalarMapping(item, text) : readLongMapping(item as Node, text);
      if (!mapping) continue;
      const base = { offset: mapping.digitsAt, length: mapping.length, port: mapping.published };
      const owner = index.byPort.get(mapping.published);
      if (registered) {
        const expectedTarget = containerPortOf(registered);
        const variable = deriveEnvNames(registered, index.registry).port;
        const replacement = `"\${${variable}}:${expectedTarget}"`;
        if (mapping.published !== registered.port) {
          matches.push({
            ...base,
            rule: "compose-port-mismatch",
            message: `service ${name} publishes ${mapping.published}, but the registry gives it ${registered.port}; use ${replacement}`,
            service: name,
            replacement,
          });
        } else if (mapping.target !== undefined && mapping.target !== expectedTarget) {
          matches.push({
            ...base,
            rule: "compose-port-mismatch",
            message: `service ${name} maps to container port ${mapping.target}, but the registry gives ${expectedTarget}; use ${replacement}`,
            service: name,
            replacement,
          });
        }
      } else if (!owner) {
        matches.push({
          ...base,
          rule: "compose-port-unknown",
          message: `service ${name} publishes ${mapping.published} ("${mapping.text}"), which the registry does not know; register ${name} (npm run ports:new)`,
        });
      }
    }
  }
  return matches;
}
