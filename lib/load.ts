/**
 * Reading and parsing the registry.
 *
 * `parseRegistry` is pure: source text in, a typed registry (when valid), a field-wise salvaged
 * registry for the business rules, and positioned diagnostics out. `loadRegistry` adds the disk
 * read. A plain file is read by the fast path (lib/load-fast.ts) and checked by hand
 * (lib/schema-check.ts); anything else goes to the careful path (lib/load-careful.ts): `yaml` v2
 * in YAML 1.2 core mode, whatever `%YAML` directive the file has, and valibot. Tests hold the paths
 * to the same data, verdicts and positions.
 */
import type { Document } from "yaml";
import { createDiagnostic, type Diagnostic, type Position, suggestClosest } from "./diagnostics.ts";
import { describeErrorCode, IoError } from "./errors.ts";
import { reserveHeapHeadroom } from "./heap.ts";
import { expectLongRun } from "./jit.ts";
import type * as Careful from "./load-careful.ts";
import { locatePlain, readPlainFast } from "./load-fast.ts";
import { displayPath } from "./paths.ts";
import { REGISTRY_KEY_SETS, REGISTRY_KEYS, type RegistryObjectKind } from "./registry-constants.ts";
import type { Registry, Service } from "./schema.ts";
import { isPlainValid } from "./schema-check.ts";

export const MAX_FILE_BYTES = 8 * 1024 * 1024;
export const MAX_DEPTH = 32;
/** From this size on, reading and rendering run long enough to reach the optimizing tiers (lib/jit.ts). */
const LONG_RUN_BYTES = 64 * 1024;

export { DEFAULT_REGISTRY_PATH, displayPath } from "./paths.ts";

/**
 * The careful path (lib/load-careful.ts: the `yaml` library, valibot and the schema, every
 * positioned diagnostic) loads only when the fast path declines a file or valibot must decide:
 * importing those libraries is most of a clean run's start-up.
 */
let carefulModule: typeof Careful | undefined;
function careful(): typeof Careful {
  carefulModule ??= require("./load-careful.ts") as typeof Careful;
  return carefulModule;
}

/** The careful path: the `yaml` library's document, with a position for every diagnostic. */
export function parseCarefully(source: string, file: string): ParsedRegistry {
  return careful().parseCarefully(source, file);
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
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !(await isDirectory(root))) {
      throw new IoError(`${root}: the root directory does not exist (see --root)`);
    }
    throw new IoError(`${file}: cannot read the registry (${describeErrorCode(error) ?? "error"})`);
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
  reserveHeapHeadroom(size);
  if (size >= LONG_RUN_BYTES) expectLongRun();
  let source: string;
  try {
    source = await Bun.file(path).text();
    // Decoding replaced any byte that is not UTF-8 with U+FFFD; the bytes tell which it was.
    if (source.includes("\uFFFD") && !isUtf8(await Bun.file(path).bytes())) {
      const at = source.indexOf("\uFFFD");
      const before = source.slice(0, at);
      const line = before.split("\n").length;
      const col = at - before.lastIndexOf("\n");
      return emptyResult(file, source, [
        createDiagnostic(
          file,
          { line, col },
          "file-encoding",
          "is not valid UTF-8 here; save the file as UTF-8",
        ),
      ]);
    }
  } catch (error) {
    throw new IoError(`${file}: cannot read the registry (${describeErrorCode(error) ?? "error"})`);
  }
  return parseRegistry(source, file);
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Bun.file(path).stat()).isDirectory();
  } catch {
    return false;
  }
}

/** Every field of a service from the fast path passed the schema: one shared empty list. */
const NOTHING_REJECTED: readonly string[] = Object.freeze([]);

export function emptyResult(file: string, source: string, diagnostics: Diagnostic[]): ParsedRegistry {
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
    const parsed = careful().validateWithSchema(raw);
    if (!parsed) return undefined;
    registry = parsed;
  }
  let carefulParse: ParsedRegistry | undefined;
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
      carefulParse ??= parseCarefully(source, file);
      return carefulParse.locate(path, which);
    },
  };
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

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function checkUnknownKeys(
  raw: unknown,
  locate: ParsedRegistry["locate"],
  file: string,
  diagnostics: Diagnostic[],
) {
  const checkObject = (value: unknown, kind: RegistryObjectKind, path: Path) => {
    if (!isRecord(value)) return;
    for (const key of Object.keys(value)) {
      if (REGISTRY_KEY_SETS[kind].has(key) || key.startsWith("x-")) continue;
      const suggestion = suggestClosest(key, REGISTRY_KEYS[kind]);
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
  checkObject(raw, "root", []);
  if (!isRecord(raw)) return;
  if (Array.isArray(raw.services)) {
    raw.services.forEach((service, index) => {
      checkObject(service, "service", ["services", index]);
      if (isRecord(service)) {
        checkObject(service.healthcheck, "healthcheck", ["services", index, "healthcheck"]);
        checkObject(service.build, "build", ["services", index, "build"]);
      }
    });
  }
  if (isRecord(raw.networks)) {
    for (const [name, network] of Object.entries(raw.networks)) {
      checkObject(network, "network", ["networks", name]);
    }
  }
}

export function formatPath(path: Path): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else text += text ? `.${key}` : key;
  }
  return text || "(root)";
}
