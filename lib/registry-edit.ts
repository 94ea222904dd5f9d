/**
 * Adding a service to the registry's source text without disturbing the rest of the file.
 *
 * The new entry is built by yaml's Document API and rendered on its own; it is then spliced in
 * at a position taken from the parsed document's node ranges, so every other byte (comments, key
 * order, quoting, flow lists, blank lines) stays as it was. A file whose shape does not allow a
 * splice (a flow `services: []`, no `networks:` block) is edited through the Document and
 * re-stringified instead. Pure: text in, text out.
 */
import { isDeepStrictEqual } from "node:util";
import * as v from "valibot";
import {
  Document,
  isMap,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  parseDocument,
  Scalar,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import { compareCodeUnits, networksOf } from "./derive.ts";
import type { PartialRegistry } from "./load.ts";
import { checkEnvNameCollisions, checkReservedEnvNames, type RuleContext } from "./rules.ts";
import { type Registry, type Service, serviceSchema } from "./schema.ts";

/** The fields the wizard asks for, in the order they are written. */
export const ENTRY_FIELDS = [
  "name",
  "stack",
  "port",
  "protocol",
  "owner",
  "description",
  "container",
  "network",
  "depends_on",
  "healthcheck",
] as const satisfies readonly (keyof Service)[];

export type EntryField = (typeof ENTRY_FIELDS)[number];
export type NewEntry = Pick<Service, EntryField>;

/**
 * Why `value` is not acceptable for `field`, using the registry schema's own rule for that field
 * (the same message `ports:validate` prints), or undefined when it is.
 */
export function checkField<F extends keyof typeof serviceSchema.entries>(
  field: F,
  value: unknown,
): string | undefined {
  const result = v.safeParse(serviceSchema.entries[field], value, { abortPipeEarly: true });
  return result.success ? undefined : result.issues[0]?.message;
}

/** Checks a healthcheck sub-field with the schema's rule for it. */
export function checkHealthField(field: "endpoint" | "expected", value: unknown): string | undefined {
  const result = v.safeParse(serviceSchema.entries.healthcheck, { [field]: value }, { abortPipeEarly: true });
  return result.success ? undefined : result.issues[0]?.message;
}

/** A network name as the schema's `network` field accepts it. */
export function checkNetworkName(name: string): string | undefined {
  return checkField("network", name);
}

export function checkNewName(registry: Registry, name: string): string | undefined {
  const problem = checkField("name", name);
  if (problem) return problem;
  if (registry.services.some((service) => service.name === name)) return `${name} is already registered`;
  return checkDerivedNames(registry, name);
}

/**
 * The registry's own rules on the variables a new service `name` derives: reserved (DOCKER_HOST)
 * or derived by another service too. Asked with the name, so no later answer is lost to it.
 */
function checkDerivedNames(registry: Registry, name: string): string | undefined {
  const services = [...registry.services, { name }].map((service, index) => ({
    ...service,
    index,
    rejected: [],
  }));
  const newIndex = services.length - 1;
  const context: RuleContext = {
    file: "",
    registry: { ...registry, services } as PartialRegistry,
    names: new Set(services.map((service) => service.name)),
    // Line 2 marks a finding about the new service, line 1 one about the others.
    locate: (path) => ({ line: path[1] === newIndex ? 2 : 1, col: 1 }),
  };
  const found = [...checkReservedEnvNames(context), ...checkEnvNameCollisions(context)].find(
    (diagnostic) => diagnostic.line === 2,
  );
  return found?.message;
}

/** Networks declared in `networks:` plus any a service uses, sorted. */
export function listNetworks(registry: Registry): string[] {
  const names = new Set(Object.keys(registry.networks ?? {}));
  for (const service of registry.services) for (const network of networksOf(service)) names.add(network);
  return [...names].sort(compareCodeUnits);
}

/** The entry with its keys in the registry's order and empty optional parts left out. */
export function buildEntry(answers: NewEntry): NewEntry {
  const entry: Record<string, unknown> = {};
  for (const field of ENTRY_FIELDS) {
    const value = answers[field];
    if (value === undefined) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (field === "healthcheck" && typeof value === "object" && Object.keys(value).length === 0) continue;
    entry[field] = value;
  }
  return entry as NewEntry;
}

export type InsertOptions = {
  /** A network to declare under `networks:` because the entry is its first user. */
  newNetwork?: { name: string; description: string };
  /** When set, `lastUpdated` becomes this date (YYYY-MM-DD). */
  today?: string;
};

export type InsertResult = { text: string; index: number; method: "splice" | "document" };

export type Placement = { index: number; position: "after" | "before" };

/**
 * Where the entry goes: after the last service of its stack with a lower port, else before the
 * first service of its stack (below the stack's heading comment), else after the last service.
 * `index` is the entry's index in the new list.
 */
export function choosePlacement(
  services: readonly { stack?: unknown; port?: unknown }[],
  entry: NewEntry,
): Placement {
  let after = -1;
  let first = -1;
  services.forEach((service, index) => {
    if (service.stack !== entry.stack) return;
    if (first < 0) first = index;
    if (typeof service.port === "number" && service.port < entry.port) after = index;
  });
  if (after >= 0) return { index: after + 1, position: "after" };
  if (first >= 0) return { index: first, position: "before" };
  return { index: services.length, position: "after" };
}

/** The entry as YAML (a one-item block sequence at column 0), quoted so YAML 1.1 tools agree with 1.2. */
export function renderEntry(entry: NewEntry): string {
  const document = new Document([entry], { version: "1.1" });
  const item = (document.contents as YAMLSeq).items[0] as YAMLMap;
  const network = item.get("network", true);
  if (isSeq(network)) network.flow = true;
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}

function renderNetwork(name: string, description: string): string {
  const document = new Document({ [name]: { description } }, { version: "1.1" });
  return document.toString({ lineWidth: 0 });
}

function indent(text: string, spaces: number): string {
  const pad = " ".repeat(spaces);
  return text
    .split("\n")
    .map((line) => (line === "" ? line : pad + line))
    .join("\n");
}

function lineStartOf(source: string, offset: number): number {
  return source.lastIndexOf("\n", offset - 1) + 1;
}

/** Offset just past the newline that ends the node's last line of content. */
function afterLastLine(source: string, node: Node): number {
  let end = (node.range?.[1] ?? 0) - 1;
  while (end > 0 && /\s/.test(source[end] ?? "")) end--;
  const newline = source.indexOf("\n", end);
  return newline < 0 ? source.length : newline + 1;
}

/**
 * Past the comment lines right after a list item that are indented inside it (deeper than its
 * dash): they belong to that service, and a new entry goes below them. A comment at the dash's
 * column heads what follows and stays above it.
 */
function afterBlockComments(source: string, offset: number, dashColumn: number): number {
  let at = offset;
  while (at < source.length) {
    const lineEnd = source.indexOf("\n", at);
    const next = lineEnd < 0 ? source.length : lineEnd + 1;
    const comment = /^( *)#/.exec(source.slice(at, next));
    if (!comment || (comment[1]?.length ?? 0) <= dashColumn) break;
    at = next;
  }
  return at;
}

type Splice = { offset: number; text: string; removeLength?: number };

function applySplices(source: string, splices: Splice[]): string {
  let text = source;
  for (const splice of [...splices].sort((a, b) => b.offset - a.offset)) {
    text =
      text.slice(0, splice.offset) + splice.text + text.slice(splice.offset + (splice.removeLength ?? 0));
  }
  return text;
}

function parseForEdit(source: string) {
  return parseDocument(source, { version: "1.2", schema: "core", keepSourceTokens: false });
}

/** The splice that adds the service, or undefined when the sequence is not a plain block list. */
function planServiceSplice(
  source: string,
  services: YAMLSeq,
  placement: Placement,
  entry: NewEntry,
): Splice | undefined {
  if (services.flow || services.items.length === 0) return undefined;
  const items = services.items as Node[];
  const anchorIndex = placement.position === "after" ? placement.index - 1 : placement.index;
  const anchor = items[anchorIndex];
  const start = anchor?.range?.[0];
  if (!anchor || start === undefined || !isMap(anchor) || anchor.flow) return undefined;
  const prefix = source.slice(lineStartOf(source, start), start);
  const dash = /^( *)- +$/.exec(prefix);
  if (!dash) return undefined;
  const block = indent(renderEntry(entry), dash[1]?.length ?? 0);
  const isSpaced = items.slice(1).some((item) => item.spaceBefore === true);
  const gap = isSpaced ? "\n" : "";
  if (placement.position === "before") return { offset: lineStartOf(source, start), text: block + gap };
  const offset = afterBlockComments(source, afterLastLine(source, anchor), dash[1]?.length ?? 0);
  const needsNewline = offset === source.length && !source.endsWith("\n");
  return { offset, text: `${needsNewline ? "\n" : ""}${gap}${block}` };
}

function planNetworkSplice(
  source: string,
  networks: unknown,
  name: string,
  description: string,
): Splice | undefined {
  if (!isMap(networks) || networks.flow || networks.items.length === 0) return undefined;
  const last = networks.items.at(-1) as Pair<Node, Node>;
  const keyStart = last.key?.range?.[0];
  const valueNode = (last.value ?? last.key) as Node | null;
  if (keyStart === undefined || !valueNode) return undefined;
  const column = keyStart - lineStartOf(source, keyStart);
  return { offset: afterLastLine(source, valueNode), text: indent(renderNetwork(name, description), column) };
}

function planDateSplice(document: ReturnType<typeof parseForEdit>, today: string): Splice | undefined {
  const node = document.get("lastUpdated", true);
  if (!isScalar(node) || !node.range) return undefined;
  const quote = node.type === Scalar.QUOTE_SINGLE ? "'" : '"';
  return {
    offset: node.range[0],
    removeLength: node.range[1] - node.range[0],
    text: `${quote}${today}${quote}`,
  };
}

/** Adds the service (and a new network, and the date) through the Document, re-stringifying it. */
function insertWithDocument(source: string, entry: NewEntry, index: number, options: InsertOptions): string {
  const document = parseForEdit(source);
  let services = document.get("services", true);
  if (!isSeq(services)) {
    services = document.createNode([]) as YAMLSeq;
    document.set("services", services);
  }
  const node = document.createNode(entry) as YAMLMap;
  const network = node.get("network", true);
  if (isSeq(network)) network.flow = true;
  (services as YAMLSeq).flow = false;
  (services as YAMLSeq).items.splice(index, 0, node);
  if (options.newNetwork) {
    document.setIn(["networks", options.newNetwork.name], { description: options.newNetwork.description });
  }
  if (options.today) document.set("lastUpdated", options.today);
  return document.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/**
 * Inserts `entry` into the registry source. The result is re-parsed and compared with the
 * intended entry, so a splice can never silently produce something else.
 */
export function insertService(source: string, entry: NewEntry, options: InsertOptions = {}): InsertResult {
  const document = parseForEdit(source);
  if (document.errors.length > 0) throw new Error("the registry must parse before a service is added");
  const services = document.get("services", true);
  const plain = isSeq(services) ? (services.toJSON() as { stack?: unknown; port?: unknown }[]) : [];
  const placement = choosePlacement(plain, entry);
  const index = placement.index;

  const splices: (Splice | undefined)[] = [
    isSeq(services) ? planServiceSplice(source, services, placement, entry) : undefined,
  ];
  if (options.newNetwork) {
    splices.push(
      planNetworkSplice(
        source,
        document.get("networks", true),
        options.newNetwork.name,
        options.newNetwork.description,
      ),
    );
  }
  if (options.today) splices.push(planDateSplice(document, options.today));

  let method: InsertResult["method"] = "splice";
  let text: string;
  if (splices.every((splice) => splice !== undefined)) {
    text = applySplices(source, splices as Splice[]);
  } else {
    method = "document";
    text = insertWithDocument(source, entry, index, options);
  }
  // A registry written with CRLF line endings keeps them in what is added.
  if (source.includes("\r\n")) text = text.replace(/(?<!\r)\n/g, "\r\n");
  const check = parseForEdit(text).toJS() as { services?: unknown[] } | null;
  if (!isDeepStrictEqual(check?.services?.[index], entry)) {
    throw new Error(`inserting ${entry.name} did not produce the intended entry`);
  }
  return { text, index, method };
}
