/**
 * Reading and parsing the registry.
 *
 * `parseRegistry` is pure: source text in, a typed registry (when valid), a field-wise salvaged
 * registry for the business rules, and positioned diagnostics out. `loadRegistry` adds the disk
 * read. The parser is `yaml` v2 in YAML 1.2 core mode, whatever `%YAML` directive the file has.
 */
import type * as Valibot from "valibot";
import type * as Yaml from "yaml";
import type { Document, Node, Scalar, YAMLMap } from "yaml";
import {
  createDiagnostic,
  type Diagnostic,
  type Position,
  type RuleId,
  suggestClosest,
} from "./diagnostics.ts";
import { IoError } from "./errors.ts";
import { locatePlain, readPlainFast } from "./load-fast.ts";
import { displayPath } from "./paths.ts";
import { REGISTRY_KEYS as KNOWN_KEYS, RESERVED_NAMES } from "./registry-constants.ts";
import type * as Schema from "./schema.ts";
import type { Registry, Service } from "./schema.ts";
import { isPlainValid } from "./schema-check.ts";

export const MAX_FILE_BYTES = 8 * 1024 * 1024;
export const MAX_DEPTH = 32;
export { DEFAULT_REGISTRY_PATH, displayPath } from "./paths.ts";

/**
 * valibot and the schema load only when the hand-written check (lib/schema-check.ts) cannot vouch
 * for a registry: importing them is a third of a clean validate's start-up.
 */
let valibotModule: typeof Valibot | undefined;
function valibot(): typeof Valibot {
  valibotModule ??= require("valibot") as typeof Valibot;
  return valibotModule;
}
let schemaModule: typeof Schema | undefined;
function schema(): typeof Schema {
  schemaModule ??= require("./schema.ts") as typeof Schema;
  return schemaModule;
}

let yamlModule: typeof Yaml | undefined;
/** `yaml` is loaded only when the careful path runs: importing it is most of a clean run's start-up. */
function yamlLib(): typeof Yaml {
  yamlModule ??= require("yaml") as typeof Yaml;
  return yamlModule;
}

export type Path = (string | number)[];

/** A service with only the fields that passed the schema on their own; the business rules read these. */
export type PartialService = Partial<Service> & {
  index: number;
  /** Fields written in the file that failed the schema: present, so "missing" rules stay quiet. */
  rejected: readonly string[];
};

export type PartialRegistry = {
  ranges: Record<string, string>;
  services: PartialService[];
  networks?: Registry["networks"];
  rules?: Registry["rules"];
  gatewayUrl?: string;
};

export type ParsedRegistry = {
  /** Path as shown in diagnostics (relative to the root when inside it). */
  file: string;
  source: string;
  /** The typed registry, present only when the file passed the schema. */
  registry?: Registry;
  partial: PartialRegistry;
  diagnostics: Diagnostic[];
  /** Position of the node at `path`, or of its nearest existing ancestor. */
  locate: (path: Path, which?: "key" | "value") => Position;
  document?: Document;
};

export async function loadRegistry(path: string, root: string): Promise<ParsedRegistry> {
  const file = displayPath(path, root);
  let size: number;
  try {
    // Bun.file, not node:fs/promises: importing that module loads Node's streams (a few ms of start-up).
    const info = await Bun.file(path).stat();
    if (!info.isFile()) throw new IoError(`${file}: not a regular file`);
    size = info.size;
  } catch (error) {
    if (error instanceof IoError) throw error;
    throw new IoError(
      `${file}: cannot read the registry (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  if (size > MAX_FILE_BYTES) {
    return emptyResult(file, "", [
      createDiagnostic(
        file,
        { line: 1, col: 1 },
        "file-too-large",
        `is ${size} bytes; the cap is ${MAX_FILE_BYTES}`,
      ),
    ]);
  }
  let source: string;
  try {
    source = await Bun.file(path).text();
  } catch (error) {
    throw new IoError(
      `${file}: cannot read the registry (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  return parseRegistry(source, file);
}

/** Every field of a service from the fast path passed the schema: one shared empty list. */
const NOTHING_REJECTED: readonly string[] = Object.freeze([]);

function emptyResult(file: string, source: string, diagnostics: Diagnostic[]): ParsedRegistry {
  return {
    file,
    source,
    partial: { ranges: {}, services: [] },
    diagnostics,
    locate: () => ({ line: 1, col: 1 }),
  };
}

export function parseRegistry(source: string, file: string): ParsedRegistry {
  // UTF-8 needs at most 3 bytes per UTF-16 unit: only a long text needs its exact byte length
  // (and only then is Buffer touched, which costs a clean start a few milliseconds).
  if (source.length * 3 > MAX_FILE_BYTES && Buffer.byteLength(source, "utf8") > MAX_FILE_BYTES) {
    return emptyResult(file, source, [
      createDiagnostic(
        file,
        { line: 1, col: 1 },
        "file-too-large",
        `exceeds the cap of ${MAX_FILE_BYTES} bytes`,
      ),
    ]);
  }
  // The fast path declines anything nested more than half as deep as the cap.
  const fast = parseFast(source, file);
  if (fast) return fast;
  const depthProblem = findExcessiveDepth(source);
  if (depthProblem) {
    return emptyResult(file, source, [
      createDiagnostic(file, depthProblem, "yaml-too-deep", `nests deeper than ${MAX_DEPTH} levels`),
    ]);
  }
  return parseCarefully(source, file);
}

/**
 * A plain file (see lib/load-fast.ts) that passes the schema: by the hand-written check when it
 * can vouch for the data (lib/schema-check.ts), by valibot otherwise. Positions are needed only
 * when a business rule fires; `locate` then asks a position-keeping fast read, and the careful
 * parse only for what that cannot place.
 */
function parseFast(source: string, file: string): ParsedRegistry | undefined {
  const raw = readPlainFast(source);
  if (raw === undefined) return undefined;
  let registry: Registry;
  if (isPlainValid(raw)) {
    registry = raw;
  } else {
    const unknownKeys: Diagnostic[] = [];
    checkUnknownKeys(raw, () => ({ line: 1, col: 1 }), file, unknownKeys);
    if (unknownKeys.length > 0) return undefined;
    const parsed = valibot().safeParse(schema().registrySchema, raw, { abortPipeEarly: true });
    if (!parsed.success) return undefined;
    registry = parsed.output;
  }
  let careful: ParsedRegistry | undefined;
  let fastLocate: ReturnType<typeof locatePlain> | null | undefined;
  return {
    file,
    source,
    registry,
    partial: {
      ranges: { ...registry.ranges },
      services: registry.services.map((service, index) => ({
        ...service,
        index,
        rejected: NOTHING_REJECTED,
      })),
      networks: registry.networks,
      rules: registry.rules,
      gatewayUrl: registry.gatewayUrl,
    },
    diagnostics: [],
    // Positions from a second, position-keeping fast read; the careful parse (which loads the
    // yaml library) only for a node the fast read cannot place.
    locate: (path, which) => {
      if (fastLocate === undefined) fastLocate = locatePlain(source) ?? null;
      const position = fastLocate?.(path, which);
      if (position) return position;
      careful ??= parseCarefully(source, file);
      return careful.locate(path, which);
    },
  };
}

/** The careful path: the `yaml` library's document, with a position for every diagnostic. */
export function parseCarefully(source: string, file: string): ParsedRegistry {
  const { isMap, isScalar, LineCounter, parseDocument } = yamlLib();
  const lineCounter = new LineCounter();
  const document = parseDocument(source, {
    lineCounter,
    version: "1.2",
    schema: "core",
    uniqueKeys: true,
    merge: false,
    prettyErrors: false,
    strict: true,
  });
  const positionAt = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, col };
  };
  const diagnostics: Diagnostic[] = [];
  const report = (offset: number, rule: RuleId, message: string) =>
    diagnostics.push(createDiagnostic(file, positionAt(offset), rule, message));

  for (const error of document.errors) {
    const rule: RuleId = error.code === "DUPLICATE_KEY" ? "yaml-duplicate-key" : "yaml-syntax";
    const message = error.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? error.code;
    report(
      error.pos[0],
      rule,
      rule === "yaml-duplicate-key" ? duplicateKeyMessage(source, error.pos[0]) : message,
    );
  }
  if (document.directives?.yaml.explicit && document.directives.yaml.version !== "1.2") {
    diagnostics.push(
      createDiagnostic(
        file,
        { line: 1, col: 1 },
        "yaml-directive",
        `%YAML ${document.directives.yaml.version} is ignored; the registry is read as YAML 1.2 core`,
      ),
    );
  }
  if (diagnostics.some((d) => d.rule === "yaml-syntax")) {
    return { ...emptyResult(file, source, diagnostics), document };
  }

  const locate = (path: Path, which: "key" | "value" = "value"): Position => {
    for (let depth = path.length; depth >= 0; depth--) {
      const keys = path.slice(0, depth);
      if (which === "key" && depth === path.length && depth > 0) {
        const parent = keys.length > 1 ? document.getIn(keys.slice(0, -1), true) : document.contents;
        if (isMap(parent)) {
          const pair = parent.items.find(
            (item) => isScalar(item.key) && item.key.value === keys[keys.length - 1],
          );
          const range = isScalar(pair?.key) ? pair.key.range : undefined;
          if (range) return positionAt(range[0]);
        }
      }
      const node = keys.length === 0 ? document.contents : document.getIn(keys, true);
      const range = (node as Node | undefined)?.range;
      if (range) return positionAt(range[0]);
    }
    return { line: 1, col: 1 };
  };

  const raw = toPlain(document.contents, source, report);
  checkUnknownKeys(raw, locate, file, diagnostics);

  const parsed = valibot().safeParse(schema().registrySchema, raw, { abortPipeEarly: true });
  if (!parsed.success) {
    for (const issue of parsed.issues) {
      // The loader already reported a number not written as a plain decimal integer.
      if (Number.isNaN(issue.input) && issue.expected === "number") continue;
      diagnostics.push(issueToDiagnostic(issue, raw, locate, file));
    }
  }
  const hasLoadErrors = diagnostics.some((d) => d.severity === "error");
  const partial = salvage(raw);
  return {
    file,
    source,
    registry: parsed.success && !hasLoadErrors ? parsed.output : undefined,
    partial,
    diagnostics,
    locate,
    document,
  };
}

function duplicateKeyMessage(source: string, offset: number): string {
  const match = /^[ \t]*(?:- )?["']?([^"':\n]+)["']?\s*:/.exec(
    source.slice(offset, source.indexOf("\n", offset) >>> 0),
  );
  return match
    ? `key "${match[1]?.trim()}" appears twice in this mapping`
    : "a key appears twice in this mapping";
}

/**
 * A cheap pre-parse bound on nesting: block indentation levels, `- ` runs on one line and flow
 * brackets. It keeps hostile input from reaching the parser's recursion.
 */
export function findExcessiveDepth(source: string): Position | undefined {
  const indents: number[] = [];
  let flowDepth = 0;
  let line = 0;
  for (const text of source.split("\n")) {
    line++;
    const trimmed = text.trimStart();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const indent = text.length - trimmed.length;
    while (indents.length > 0 && (indents[indents.length - 1] as number) >= indent) indents.pop();
    indents.push(indent);
    let dashes = 0;
    while (trimmed.startsWith("- ", dashes * 2)) dashes++;
    if (indents.length + dashes > MAX_DEPTH) return { line, col: indent + 1 };
    let quote: string | undefined;
    for (let i = 0; i < text.length; i++) {
      const char = text[i];
      if (quote) {
        if (char === quote) quote = undefined;
      } else if (char === '"' || char === "'") {
        quote = char;
      } else if (char === "#" && (i === 0 || text[i - 1] === " ")) {
        break;
      } else if (char === "[" || char === "{") {
        flowDepth++;
        if (flowDepth + indents.length > MAX_DEPTH) return { line, col: i + 1 };
      } else if (char === "]" || char === "}") {
        flowDepth = Math.max(0, flowDepth - 1);
      }
    }
  }
  return undefined;
}

/** Plain scalars that YAML 1.1 tools (and many editors) read differently from YAML 1.2 core. */
const YAML11_BOOLEAN = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
const YAML11_OCTAL = /^[-+]?0[0-7_]+$/;
const YAML11_SEXAGESIMAL = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const YAML11_UNDERSCORE_NUMBER = /^[-+]?[0-9][0-9_]*_[0-9_]*(?:\.[0-9_]*)?$/;
const PLAIN_DECIMAL_INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

type Report = (offset: number, rule: RuleId, message: string) => void;

/**
 * Converts the document to plain data while checking what valibot cannot see: aliases, anchors,
 * tags, non-string keys, YAML 1.1 surprises and numbers not written as plain decimal integers.
 */
function toPlain(node: unknown, source: string, report: Report): unknown {
  const { isAlias, isMap, isScalar, isSeq } = yamlLib();
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    report(
      node.range?.[0] ?? 0,
      "yaml-alias",
      `alias *${node.source} is not allowed; repeat the value instead`,
    );
    return null;
  }
  const yamlNode = node as Node;
  const offset = yamlNode.range?.[0] ?? 0;
  if (yamlNode.anchor)
    report(offset, "yaml-alias", `anchor &${yamlNode.anchor} is not allowed; repeat the value instead`);
  if (yamlNode.tag) report(offset, "yaml-tag", `tag ${yamlNode.tag} is not allowed; write a plain value`);
  if (isScalar(node)) return scalarToPlain(node, source, report);
  if (isSeq(node)) return node.items.map((item) => toPlain(item, source, report));
  if (isMap(node)) return mapToPlain(node, source, report);
  return null;
}

function scalarToPlain(node: Scalar, source: string, report: Report): unknown {
  const offset = node.range?.[0] ?? 0;
  if (node.type !== yamlLib().Scalar.PLAIN) return node.value;
  const text = source.slice(offset, node.range?.[1] ?? offset);
  if (typeof node.value === "string") {
    if (YAML11_BOOLEAN.test(text)) {
      report(
        offset,
        "yaml-ambiguous-scalar",
        `unquoted ${text} is a boolean in YAML 1.1; write "${text}" or true/false`,
      );
    } else if (YAML11_SEXAGESIMAL.test(text)) {
      report(
        offset,
        "yaml-ambiguous-scalar",
        `unquoted ${text} is a base-60 number in YAML 1.1; quote it: "${text}"`,
      );
    } else if (YAML11_UNDERSCORE_NUMBER.test(text)) {
      report(
        offset,
        "yaml-ambiguous-scalar",
        `unquoted ${text} is a number in YAML 1.1; quote it or drop the underscores`,
      );
    }
    return node.value;
  }
  if (typeof node.value === "number") {
    if (YAML11_OCTAL.test(text)) {
      report(
        offset,
        "yaml-ambiguous-scalar",
        `unquoted ${text} is octal in YAML 1.1 and decimal in 1.2; write it without the leading zero`,
      );
      return Number.NaN;
    }
    if (!PLAIN_DECIMAL_INTEGER.test(text)) {
      report(offset, "schema-type", `${text} must be written as a plain decimal integer`);
      return Number.NaN;
    }
  }
  return node.value;
}

function mapToPlain(node: YAMLMap, source: string, report: Report): Record<string, unknown> {
  const { isPair, isScalar } = yamlLib();
  const result: Record<string, unknown> = {};
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    const key = pair.key;
    if (!isScalar(key) || typeof key.value !== "string") {
      const offset = (key as Node | null)?.range?.[0] ?? node.range?.[0] ?? 0;
      report(offset, "yaml-non-string-key", "mapping keys must be strings; quote the key");
      continue;
    }
    if (key.tag || key.anchor) toPlain(key, source, report);
    if ((RESERVED_NAMES as readonly string[]).includes(key.value)) {
      report(
        key.range?.[0] ?? 0,
        "name-reserved",
        `"${key.value}" is a reserved name and cannot be used as a key`,
      );
      continue;
    }
    Object.defineProperty(result, key.value, {
      value: toPlain(pair.value, source, report),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return result;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const knownKeySets = new WeakMap<readonly string[], ReadonlySet<string>>();

function knownKeySet(known: readonly string[]): ReadonlySet<string> {
  let set = knownKeySets.get(known);
  if (!set) {
    set = new Set(known);
    knownKeySets.set(known, set);
  }
  return set;
}

function checkUnknownKeys(
  raw: unknown,
  locate: ParsedRegistry["locate"],
  file: string,
  diagnostics: Diagnostic[],
) {
  const checkObject = (value: unknown, known: readonly string[], path: Path) => {
    if (!isRecord(value)) return;
    const knownSet = knownKeySet(known);
    for (const key of Object.keys(value)) {
      if (knownSet.has(key) || key.startsWith("x-")) continue;
      const suggestion = suggestClosest(key, known);
      const hint = suggestion ? `; did you mean "${suggestion}"?` : "; extensions must start with x-";
      diagnostics.push(
        createDiagnostic(
          file,
          locate([...path, key], "key"),
          "schema-unknown-key",
          `unknown key "${key}"${hint}`,
        ),
      );
    }
  };
  checkObject(raw, KNOWN_KEYS.root, []);
  if (!isRecord(raw)) return;
  if (Array.isArray(raw.services)) {
    raw.services.forEach((service, index) => {
      checkObject(service, KNOWN_KEYS.service, ["services", index]);
      if (isRecord(service)) {
        checkObject(service.healthcheck, KNOWN_KEYS.healthcheck, ["services", index, "healthcheck"]);
        checkObject(service.build, KNOWN_KEYS.build, ["services", index, "build"]);
      }
    });
  }
  if (isRecord(raw.networks)) {
    for (const [name, network] of Object.entries(raw.networks)) {
      checkObject(network, KNOWN_KEYS.network, ["networks", name]);
    }
  }
}

type Issue = Valibot.BaseIssue<unknown>;

function describeReceived(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a mapping";
  if (typeof input === "string") {
    return `"${escapeControls(input.length > 40 ? `${input.slice(0, 40)}…` : input)}"`;
  }
  if (typeof input === "number" && Number.isNaN(input)) return "a malformed number";
  return String(input);
}

/** Control characters and line separators as escapes, so a diagnostic always stays on one line. */
function escapeControls(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029"\\]/gu, (char) => {
    if (char === '"' || char === "\\") return `\\${char}`;
    if (char === "\n") return "\\n";
    if (char === "\t") return "\\t";
    return `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`;
  });
}

export function formatPath(path: Path): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else text += text ? `.${key}` : key;
  }
  return text || "(root)";
}

function issueToDiagnostic(
  issue: Issue,
  raw: unknown,
  locate: ParsedRegistry["locate"],
  file: string,
): Diagnostic {
  const path: Path = (issue.path ?? []).map((item) => item.key as string | number);
  const where = formatPath(path);
  const last = issue.path?.at(-1);
  // valibot reports a missing object key as a schema issue on the key with no input.
  const isMissingKey =
    issue.kind === "schema" &&
    issue.type === "object" &&
    issue.input === undefined &&
    last?.type === "object";
  const isRecordKey = !isMissingKey && last?.type === "object" && last.origin === "key";
  const subject = describeSubject(raw, path);
  if (isMissingKey) {
    const parentPath = path.slice(0, -1);
    if (Array.isArray(valueAt(raw, parentPath))) {
      return createDiagnostic(
        file,
        locate(parentPath),
        "schema-type",
        `${subject}${formatPath(parentPath)} must be a mapping, got a list`,
      );
    }
    return createDiagnostic(file, locate(parentPath), "schema-required", `${subject}${where} is required`);
  }
  if (isRecordKey) {
    const message = customMessage(issue) ?? "is not a valid key";
    return createDiagnostic(
      file,
      locate(path, "key"),
      "schema-value",
      `${subject}key "${String(path.at(-1))}" ${message}`,
    );
  }
  const received = describeReceived(issue.input);
  if (issue.kind === "schema" && issue.type !== "picklist" && issue.type !== "union") {
    const expected = customMessage(issue) ?? `must be ${article(issue.expected ?? "value")}`;
    return createDiagnostic(
      file,
      locate(path),
      "schema-type",
      `${subject}${where} ${expected}, got ${received}`,
    );
  }
  const message = customMessage(issue) ?? issue.message;
  const rule: RuleId =
    issue.type === "check" && /reserved name/.test(message) ? "name-reserved" : "schema-value";
  return createDiagnostic(file, locate(path), rule, `${subject}${where} ${message}, got ${received}`);
}

function valueAt(raw: unknown, path: Path): unknown {
  let value = raw;
  for (const key of path) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** Names the service an issue belongs to, when it has a readable name. */
function describeSubject(raw: unknown, path: Path): string {
  if (path[0] !== "services" || typeof path[1] !== "number" || path.length < 3 || !isRecord(raw)) return "";
  const services = raw.services;
  const service = Array.isArray(services) ? services[path[1]] : undefined;
  const name = isRecord(service) && typeof service.name === "string" ? service.name : undefined;
  return name ? `${name}: ` : "";
}

function article(expected: string): string {
  const words: Record<string, string> = {
    string: "a string",
    number: "a number",
    boolean: "true or false",
    Object: "a mapping",
    Array: "a list",
  };
  return words[expected] ?? expected;
}

/** Our schema's messages start lowercase ("must be ..."); valibot's generic ones start with "Invalid". */
function customMessage(issue: Issue): string | undefined {
  return /^Invalid /.test(issue.message) ? undefined : issue.message;
}

/** Keeps every field that passes its own schema, so the business rules see as much as possible. */
function salvage(raw: unknown): PartialRegistry {
  const partial: PartialRegistry = { ranges: {}, services: [] };
  if (!isRecord(raw)) return partial;
  if (isRecord(raw.ranges)) {
    for (const [stack, range] of Object.entries(raw.ranges)) {
      if (typeof range === "string") partial.ranges[stack] = range;
    }
  }
  const v = valibot();
  const { registrySchema, serviceSchema } = schema();
  const entries = registrySchema.entries;
  for (const key of ["networks", "rules", "gatewayUrl"] as const) {
    const result = v.safeParse(entries[key], raw[key]);
    if (result.success && result.output !== undefined) Object.assign(partial, { [key]: result.output });
  }
  if (Array.isArray(raw.services)) {
    raw.services.forEach((service, index) => {
      const rejected: string[] = [];
      const salvaged: PartialService = { index, rejected };
      if (isRecord(service)) {
        for (const [key, schema] of Object.entries(serviceSchema.entries)) {
          if (!Object.hasOwn(service, key)) continue;
          const result = v.safeParse(schema, service[key], { abortPipeEarly: true });
          if (result.success) Object.assign(salvaged, { [key]: result.output });
          else rejected.push(key);
        }
      }
      partial.services.push(salvaged);
    });
  }
  return partial;
}
