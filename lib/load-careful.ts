/**
 * The careful path of the loader: the `yaml` library's document (YAML 1.2 core, whatever the
 * file's `%YAML` directive), every construct the fast path declines (aliases, tags, YAML 1.1
 * surprises, non-string keys), valibot for the schema, and a position for every diagnostic.
 * Loaded on demand by lib/load.ts: a clean, plain registry never needs it.
 */
import * as v from "valibot";
import type * as Yaml from "yaml";
import type { Node, Scalar, YAMLMap } from "yaml";
import { createDiagnostic, type Diagnostic, type Position, type RuleId } from "./diagnostics.ts";
import {
  checkUnknownKeys,
  emptyResult,
  formatPath,
  isRecord,
  type ParsedRegistry,
  type PartialRegistry,
  type PartialService,
  type Path,
} from "./load.ts";
import { RESERVED_NAMES } from "./registry-constants.ts";
import { type Registry, registrySchema, serviceSchema } from "./schema.ts";

let yamlModule: typeof Yaml | undefined;
/** `yaml` loads only for a careful parse, not when valibot alone decides on data the fast path read. */
function yamlLib(): typeof Yaml {
  yamlModule ??= require("yaml") as typeof Yaml;
  return yamlModule;
}

/** valibot's verdict on plain data the hand-written check could not vouch for: the output or undefined. */
export function validateWithSchema(raw: unknown): Registry | undefined {
  const parsed = v.safeParse(registrySchema, raw, { abortPipeEarly: true });
  return parsed.success ? parsed.output : undefined;
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

  // One syntax error per line: the parser's further errors on it follow from the first.
  const linesWithSyntaxErrors = new Set<number>();
  for (const error of document.errors) {
    if (error.code === "DUPLICATE_KEY") {
      report(error.pos[0], "yaml-duplicate-key", duplicateKeyMessage(source, error.pos[0]));
      continue;
    }
    const line = positionAt(error.pos[0]).line;
    if (linesWithSyntaxErrors.has(line)) continue;
    linesWithSyntaxErrors.add(line);
    report(error.pos[0], "yaml-syntax", syntaxMessage(error.code, error.message, lineCounter, source, line));
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

  const parsed = v.safeParse(registrySchema, raw, { abortPipeEarly: true });
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

/** Plain scalars that YAML 1.1 tools (and many editors) read differently from YAML 1.2 core. */
/** `stack:api`: a key whose colon is not followed by a space or the end of the line. */
const KEY_WITHOUT_SPACE = /^\s*(?:-\s+)?([A-Za-z_][\w.-]*):([^\s:/][^#]*?)\s*$/;

/** The parser's message in the registry's terms, with the fix where the cause is a common slip. */
function syntaxMessage(
  code: string,
  message: string,
  lineCounter: Yaml.LineCounter,
  source: string,
  line: number,
): string {
  if (code === "MULTIPLE_DOCS") {
    return "a registry is one YAML document: remove this --- and what follows it, or merge it into the first";
  }
  const text = message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "") ?? code;
  const start = lineCounter.lineStarts[line - 1] ?? 0;
  const end = source.indexOf("\n", start);
  const slip = KEY_WITHOUT_SPACE.exec(source.slice(start, end < 0 ? source.length : end));
  return slip ? `${text}; a key needs a space after its colon: write "${slip[1]}: ${slip[2]}"` : text;
}

const YAML11_BOOLEAN = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
const YAML11_OCTAL = /^[-+]?0[0-7_]+$/;
const YAML11_SEXAGESIMAL = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const YAML11_UNDERSCORE_NUMBER = /^[-+]?[0-9][0-9_]*_[0-9_]*(?:\.[0-9_]*)?$/;
/** YAML 1.1's timestamp: a date, optionally with a time (1.1 parsers return a date object). */
export const YAML11_TIMESTAMP =
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/;
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
    } else if (YAML11_TIMESTAMP.test(text)) {
      report(
        offset,
        "yaml-ambiguous-scalar",
        `unquoted ${text} is a timestamp in YAML 1.1; quote it: "${text}"`,
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

type Issue = v.BaseIssue<unknown>;

function describeReceived(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a mapping";
  if (typeof input === "string") {
    return `"${escapeControls(input.length > 40 ? `${input.slice(0, 40)}…` : input)}"`;
  }
  if (typeof input === "number" && Number.isNaN(input)) return "a malformed number";
  // 99999999999999999999 would print as 100000000000000000000: name it instead of misquoting it.
  if (typeof input === "number" && Number.isInteger(input) && !Number.isSafeInteger(input)) {
    return "a number too large to read exactly";
  }
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

/** The entries of a record that pass the record's schema one by one. */
function salvageRecord<T>(schema: v.GenericSchema, record: Record<string, unknown>): Record<string, T> {
  const kept: [string, T][] = [];
  for (const [name, value] of Object.entries(record)) {
    const entry = v.safeParse(schema, { [name]: value }, { abortPipeEarly: true });
    if (entry.success) kept.push(...Object.entries((entry.output ?? {}) as Record<string, T>));
  }
  return Object.fromEntries(kept);
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
  const entries = registrySchema.entries;
  for (const key of ["networks", "rules", "gatewayUrl"] as const) {
    const result = v.safeParse(entries[key], raw[key]);
    if (result.success && result.output !== undefined) {
      Object.assign(partial, { [key]: result.output });
    } else if (key !== "gatewayUrl" && isRecord(raw[key])) {
      // Entry by entry: one bad entry must not hide the others from the rules. A network whose
      // definition is wrong is still declared (the schema reports the definition).
      const kept: [string, unknown][] = [];
      for (const [name, value] of Object.entries(raw[key])) {
        const entry = v.safeParse(entries[key], { [name]: value });
        if (entry.success) kept.push(...Object.entries(entry.output ?? {}));
        else if (key === "networks") kept.push([name, {}]);
      }
      Object.assign(partial, { [key]: Object.fromEntries(kept) });
    }
  }
  if (Array.isArray(raw.services)) {
    raw.services.forEach((service, index) => {
      const rejected: string[] = [];
      const salvaged: PartialService = { index, rejected };
      if (isRecord(service)) {
        for (const [key, schema] of Object.entries(serviceSchema.entries)) {
          if (!Object.hasOwn(service, key)) continue;
          const result = v.safeParse(schema, service[key], { abortPipeEarly: true });
          if (result.success) {
            Object.assign(salvaged, { [key]: result.output });
          } else {
            rejected.push(key);
            // One bad variable must not hide the references of the others from the rules.
            if (key === "environment" && isRecord(service[key])) {
              salvaged.environment = salvageRecord(schema, service[key]);
            }
          }
        }
      }
      partial.services.push(salvaged);
    });
  }
  return partial;
}
