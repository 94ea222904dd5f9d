/**
 * Findings: pattern matches and compose drift, looked up in the registry index, minus the lines an
 * inline marker allows, with positions, snippets and line-shift-proof fingerprints. Pure.
 */
import { skipOptimizingCompiler } from "./jit.ts";
import {
  ALLOW_MARKERS,
  type DriftMatch,
  type FileKind,
  type Finding,
  matchPatterns,
  type PatternKind,
  type RawMatch,
} from "./scan.ts";
import { looksLikeCompose } from "./scan-compose.ts";

// ---------------------------------------------------------------------------------------------
// Registry index (plain data, built by lib/scan-index.ts, so the worker thread never loads the
// schema)

/** What the scanner needs to know about one registered service. */
export type IndexedService = {
  name: string;
  port: number;
  containerPort: number;
  /** Runs in a container (its URL in `.env.shared` names its DNS name). */
  container: boolean;
  /** Reachable from the host on `port`: false for `exposure: internal`, which is never published. */
  published: boolean;
  /** `${NAME}_URL` and `${NAME}_PORT` from `.env.shared`. */
  urlVariable: string;
  portVariable: string;
  deprecated: boolean;
  replacement?: string;
};

export type PortIndex = {
  byPort: Map<number, IndexedService>;
  byContainerPort: Map<number, IndexedService[]>;
  byName: Map<string, IndexedService>;
};

/** The index of no registry (missing or invalid): every port is unregistered. */
export function createEmptyPortIndex(): PortIndex {
  return { byPort: new Map(), byContainerPort: new Map(), byName: new Map() };
}

/** Kinds whose literal is a listen port, which may be a container port as well as a host port. */
function readsListenPort(kind: PatternKind): boolean {
  return kind === "port-assignment" || kind === "fallback-port";
}

/** Who owns a port: the service that publishes it, or the services that listen on it inside. */
export type PortOwners =
  | { via: "port"; service: IndexedService }
  | { via: "containerPort"; services: readonly IndexedService[] };

/** Host-side patterns only match published ports; a `PORT=` may also be a container's listen port. */
export function findOwners(index: PortIndex, port: number, kind: PatternKind): PortOwners | undefined {
  const service = index.byPort.get(port);
  if (service) return { via: "port", service };
  if (readsListenPort(kind)) {
    const services = index.byContainerPort.get(port);
    if (services && services.length > 0) return { via: "containerPort", services };
  }
  return undefined;
}

/**
 * How advice spells a variable: as the file's kind reads it, or closer than that. A YAML file that
 * is not a compose file (a Helm values file, a workflow) reads no variables itself, so the advice
 * says where to fill it in; an npm script in package.json runs in a shell, which reads `${NAME}`.
 */
export type Spelling = FileKind | "plain-yaml" | "npm-script";

/** How a file read as `spelling` reads an env variable from `.env.shared`. */
export function spellVariable(name: string, spelling: Spelling): string {
  if (spelling === "code") return `process.env.${name}`;
  if (spelling === "json") return `${name} (from .env.shared; JSON cannot interpolate)`;
  if (spelling === "plain-yaml") return name;
  return `\${${name}}`;
}

/** Literals that name the machine itself as a client: `localhost:N` reaches a port from the host only. */
function isLoopbackKind(kind: PatternKind): boolean {
  return kind === "localhost-port" || kind === "loopback-port" || kind === "ipv6-loopback-port";
}

/** The variable that replaces a hardcoded port of `service` for a pattern: the URL for host:port. */
export function suggestVariable(service: IndexedService, kind: PatternKind): string {
  const isUrl = isLoopbackKind(kind) || kind === "docker-host-port";
  return isUrl ? service.urlVariable : service.portVariable;
}

/** "a", "a and b", "a, b and 2 more". */
function listNames(names: readonly string[]): string {
  if (names.length <= 2) return names.join(" and ");
  return `${names[0]}, ${names[1]} and ${names.length - 2} more`;
}

// ---------------------------------------------------------------------------------------------
// Findings: registry lookup, inline suppression, positions and fingerprints

export type SourceInput = {
  file: string;
  text: string;
  fileKind: FileKind;
  index: PortIndex;
  /** Ports below this are ignored (see `DEFAULT_MIN_PORT`). */
  minPort: number;
  /** Compose drift matches for this file (from `matchComposeDrift`), which win over patterns at the same port. */
  drift?: DriftMatch[];
};

export type SourceResult = { findings: Finding[]; suppressed: number };

type Marker = { offset: number; reason: string };

/** Every `ports:allow` / `port-governance:ignore` marker of the text with the reason that follows it. */
export function findMarkers(text: string): Marker[] {
  const markers: Marker[] = [];
  for (const marker of ALLOW_MARKERS) {
    for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + marker.length)) {
      // `ports:allowlist` is another word, not the marker.
      if (isMarkerWordCode(text.charCodeAt(at + marker.length))) continue;
      // The reason is the rest of the line, at most 300 characters: look no further for its end
      // (a long line full of markers would otherwise be searched to its end once per marker).
      const window = text.slice(at + marker.length, at + marker.length + 300);
      const newline = window.indexOf("\n");
      const reason = (newline < 0 ? window : window.slice(0, newline))
        .replace(/\*\/|-->|\r/g, " ")
        .replace(/^[\s:=-]+/, "")
        .trim();
      markers.push({ offset: at, reason });
    }
  }
  return markers.sort((a, b) => a.offset - b.offset);
}

/** Characters that continue a marker into a longer word: letters, digits, `_` and `-`. */
function isMarkerWordCode(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 95 ||
    code === 45
  );
}

/** A reason is real words, not a placeholder: at least three characters, one of them a letter. */
export function isValidReason(reason: string): boolean {
  return reason.length >= 3 && /\p{L}/u.test(reason);
}

const COMMENT_OPENERS = ["#", "//", "/*", "*", "<!--", "--", ";"];

function isCommentOnly(text: string, lineStart: number, lineEnd: number): boolean {
  const line = text.slice(lineStart, Math.min(lineEnd, lineStart + 400)).trimStart();
  return COMMENT_OPENERS.some((opener) => line.startsWith(opener));
}

/**
 * Line starts, found only as far as a lookup needs them: findings sit anywhere in a file, and a
 * file's tail after its last finding is never split into lines.
 */
type LineTable = { text: string; starts: number[]; isComplete: boolean };

function createLineTable(text: string): LineTable {
  return { text, starts: [0], isComplete: false };
}

/** Finds line starts until one lies beyond `offset` or the text ends. */
function extendLineTable(table: LineTable, offset: number): void {
  const { text, starts } = table;
  while (!table.isComplete && (starts[starts.length - 1] as number) <= offset) {
    const newline = text.indexOf("\n", starts[starts.length - 1]);
    if (newline < 0) table.isComplete = true;
    else starts.push(newline + 1);
  }
}

function lineIndexOf(table: LineTable, offset: number): number {
  extendLineTable(table, offset);
  let low = 0;
  let high = table.starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((table.starts[middle] as number) <= offset) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** Bounds of line `index`, which a `lineIndexOf` lookup has already reached. */
function lineBounds(text: string, table: LineTable, index: number): { start: number; end: number } {
  const start = table.starts[index] as number;
  extendLineTable(table, start);
  const next = table.starts[index + 1];
  let end = next === undefined ? text.length : next - 1;
  if (end > start && text.charCodeAt(end - 1) === 13) end--;
  return { start, end };
}

function markerIn(markers: Marker[], start: number, end: number): Marker | undefined {
  let low = 0;
  let high = markers.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((markers[middle] as Marker).offset < start) low = middle + 1;
    else high = middle;
  }
  const marker = markers[low];
  return marker && marker.offset < end ? marker : undefined;
}

/** The line's content with whitespace collapsed; long lines keep a window around the match. */
function normalizeLine(text: string, start: number, end: number, offset: number): string {
  const from = end - start > 512 ? Math.max(start, offset - 100) : start;
  const to = end - start > 512 ? Math.min(end, offset + 100) : end;
  return text.slice(from, to).replace(/\s+/g, " ").trim();
}

function snippetOf(text: string, start: number, end: number, offset: number): string {
  if (end - start <= 200) return text.slice(start, end).trim();
  const from = Math.max(start, offset - 80);
  const to = Math.min(end, offset + 120);
  return `${from > start ? "…" : ""}${text.slice(from, to).trim()}${to < end ? "…" : ""}`;
}

export function fingerprintOf(kind: string, file: string, normalized: string, occurrence: number): string {
  // The one-shot form: about half the cost of a hasher object per finding.
  return Bun.CryptoHasher.hash("sha256", `${kind}\0${file}\0${normalized}\0${occurrence}`, "hex").slice(
    0,
    32,
  );
}

type Described = Pick<Finding, "rule" | "message" | "service" | "replacement">;

function describeMatch(match: RawMatch, fileKind: Spelling, index: PortIndex): Described {
  const owners = findOwners(index, match.port, match.kind);
  const fallbackNote = match.isFallback ? " (a fallback is still hardcoded)" : "";
  if (!owners) {
    const inner = index.byContainerPort.get(match.port) ?? [];
    const hint =
      inner.length > 0
        ? `; ${match.port} is the container port of ${listNames(inner.map((service) => `${service.name} (published on ${service.port})`))}`
        : "";
    return {
      rule: "unregistered-port",
      message: `${match.text}: port ${match.port} is not in the registry${fallbackNote}${hint}; register it (npm run ports:new) and read its variable from .env.shared`,
    };
  }
  if (owners.via === "containerPort") return describeContainerPort(match, fileKind, owners.services);
  const owner = owners.service;
  let target = owner;
  let note = "";
  if (target.deprecated && target.replacement) {
    const replacement = index.byName.get(target.replacement);
    if (replacement) {
      note = `, which is deprecated in favour of ${replacement.name}`;
      target = replacement;
    }
  }
  if (match.kind === "docker-host-port" && !target.container) {
    // A native service's URL says localhost, which inside a container is the container itself.
    const replacement = dockerHostReplacement(target, fileKind);
    return {
      rule: match.kind,
      message: `${match.text} hardcodes the port of ${owner.name}${note}${fallbackNote}, which runs on the host; keep host.docker.internal and take the port from .env.shared: ${replacement} (its URL variable says localhost, which inside a container is the container itself)`,
      service: owner.name,
      replacement,
    };
  }
  const replacement = spellVariable(suggestVariable(target, match.kind), fileKind);
  return {
    rule: match.kind,
    message: `${match.text} hardcodes the port of ${owner.name}${note}${fallbackNote}; use ${replacement} instead${fromHostNote(match.kind, target, fileKind)}`,
    service: owner.name,
    replacement,
  };
}

/** For localhost on a container: the URL names its DNS name, which only resolves on its network. */
function fromHostNote(kind: PatternKind, target: IndexedService, fileKind: Spelling): string {
  if (!isLoopbackKind(kind) || !target.container) return "";
  if (!target.published) return ` (${target.name} is not published, so nothing on the host reaches it)`;
  // JSON's spelling carries its own parenthesis; the name alone reads better inside this one.
  const port = fileKind === "json" ? target.portVariable : spellVariable(target.portVariable, fileKind);
  return ` (from the host: localhost and ${port})`;
}

/** `host.docker.internal:` with the port variable, spelled for the file. */
function dockerHostReplacement(service: IndexedService, fileKind: Spelling): string {
  if (fileKind === "code") return `host.docker.internal:\${process.env.${service.portVariable}}`;
  if (fileKind === "json" || fileKind === "plain-yaml") {
    return `host.docker.internal and ${spellVariable(service.portVariable, fileKind)}`;
  }
  return `host.docker.internal:\${${service.portVariable}}`;
}

/**
 * A listen port that is only a container port: right inside that container, wrong anywhere else.
 * No `.env.shared` variable holds a container port, so the advice is the service's URL.
 */
function describeContainerPort(
  match: RawMatch,
  fileKind: Spelling,
  services: readonly IndexedService[],
): Described {
  const fallbackNote = match.isFallback ? " (a fallback is still hardcoded)" : "";
  const keep = "or, where it is that container's own listen port, keep it with a ports:allow <reason> marker";
  const only = services.length === 1 ? services[0] : undefined;
  if (only) {
    const replacement = spellVariable(only.urlVariable, fileKind);
    return {
      rule: match.kind,
      message: `${match.text} hardcodes the container port of ${only.name}${fallbackNote}, which only its own network reaches (${only.published ? `the host uses ${spellVariable(only.portVariable, fileKind)}` : "it is not published to the host"}); to reach it use ${replacement}, ${keep}`,
      service: only.name,
      replacement,
    };
  }
  return {
    rule: match.kind,
    message: `${match.text} hardcodes ${match.port}, the container port of ${listNames(services.map((service) => service.name))}${fallbackNote}; to reach one of them use its _URL variable from .env.shared, ${keep}`,
  };
}

type Pending = Described & { offset: number; length: number; port: number; kind: Finding["kind"] };

/**
 * Findings of one file: pattern matches and compose drift, looked up in the registry, minus the
 * lines an inline marker allows (a marker without a reason is a finding of its own).
 * (Split in small functions: one large one costs the engine more to compile than to run.)
 */
export function scanSource(input: SourceInput): SourceResult {
  const pending = collectPending(input);
  if (pending.size === 0) return { findings: [], suppressed: 0 };
  return emitFindings(
    input.file,
    input.text,
    [...pending.values()].sort((a, b) => a.offset - b.offset),
  );
}

/** Drift first, then pattern matches at offsets drift did not claim. */
function collectPending(input: SourceInput): Map<number, Pending> {
  const { text, fileKind, index, minPort } = input;
  const pending = new Map<number, Pending>();
  for (const drift of input.drift ?? []) {
    // Below minPort an unknown port is nobody's, but a registered service on the wrong port is drift.
    if (drift.port < minPort && drift.rule === "compose-port-unknown") continue;
    pending.set(drift.offset, {
      offset: drift.offset,
      length: drift.length,
      port: drift.port,
      kind: "compose-drift",
      rule: drift.rule,
      message: drift.message,
      service: drift.service,
      replacement: drift.replacement,
    });
  }
  const isPlainYaml = fileKind === "yaml" && !readsVariables(input.file, text);
  const isPackageJson = fileKind === "json" && /(?:^|\/)package\.json$/.test(input.file);
  for (const match of matchPatterns(text, fileKind, minPort)) {
    if (pending.has(match.offset)) continue;
    // A `ports:` item is compose syntax (a stack file too), which reads variables.
    const spelling: Spelling =
      isPlainYaml && match.kind !== "published-port"
        ? "plain-yaml"
        : isPackageJson && isInCommand(text, match.offset)
          ? "npm-script"
          : fileKind;
    const described = describeMatch(match, spelling, index);
    const advised =
      spelling === "plain-yaml"
        ? forPlainYaml(match, described)
        : unlessRedefinition(text, match, fileKind, described);
    pending.set(match.offset, { ...match, ...advised });
  }
  return pending;
}

/**
 * YAML that reads `${NAME}`: a compose file (by name, or by its `services:` and `ports:`), or a file
 * already written with `${NAME}` (envsubst, a config loader). A GitHub workflow reads `${{ }}` only.
 */
function readsVariables(path: string, text: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  if (/^(?:docker-)?compose[\w.-]*\.ya?ml$/i.test(name)) return true;
  if (/(?:^|\/)\.github\/workflows\//.test(path)) return false;
  return looksLikeCompose(text) || /\$\{[A-Za-z_]/.test(text);
}

/** A file that reads no variables can only be filled in where it is rendered, or keep its literal. */
function forPlainYaml(match: RawMatch, described: Described): Described {
  if (!described.service || !described.replacement) return described;
  return {
    rule: described.rule,
    service: described.service,
    message: `${match.text}: port ${match.port} belongs to ${described.service}; this file reads no variables, so fill in ${described.replacement} from .env.shared where it is rendered (helm --set, envsubst), or keep the literal with a ports:allow <reason> marker`,
  };
}

/**
 * In package.json, a match inside a string that holds a blank: a command (a script). The line is
 * read as JSON strings are: a backslash escapes the next character.
 */
function isInCommand(text: string, offset: number): boolean {
  let lineEnd = text.indexOf("\n", offset);
  if (lineEnd < 0) lineEnd = text.length;
  let stringStart = -1;
  for (let at = text.lastIndexOf("\n", offset - 1) + 1; at < lineEnd; at++) {
    const code = text.charCodeAt(at);
    if (code === 92 && stringStart >= 0) {
      at++; // an escaped character
    } else if (code === 34) {
      if (stringStart < 0) {
        stringStart = at;
      } else {
        if (stringStart < offset && offset < at) return /\s/.test(text.slice(stringStart + 1, at));
        stringStart = -1;
      }
    }
  }
  return false;
}

/**
 * An env or shell line that sets the very variable the advice names (`REDIS_PORT=NNNN` told to use
 * `${REDIS_PORT}`). A bare port assignment redefines what .env.shared holds: drop it. A URL for
 * the host keeps localhost and takes the port (.env.shared's URL names the Docker network). A
 * variable set for one command is taken from .env.shared instead.
 */
function unlessRedefinition(
  text: string,
  match: RawMatch,
  fileKind: FileKind,
  described: Described,
): Described {
  if ((fileKind !== "env" && fileKind !== "shell") || !described.replacement || !described.service)
    return described;
  const variable = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(described.replacement)?.[1];
  const lineStart = text.lastIndexOf("\n", match.offset - 1) + 1;
  const key = ASSIGNED_KEY.exec(text.slice(lineStart, match.offset))?.[1];
  if (!variable || key !== variable) return described;
  const base = { rule: described.rule, service: described.service };
  if (variable.endsWith("_URL")) {
    const port = `\${${variable.slice(0, -"_URL".length)}_PORT}`;
    return {
      ...base,
      message: `${match.text} redefines ${variable}: inside a container drop this line and load .env.shared; on the host keep localhost and take the port, ${port} (.env.shared's ${variable} names the Docker network)`,
    };
  }
  let lineEnd = text.indexOf("\n", match.offset);
  if (lineEnd < 0) lineEnd = text.length;
  // What follows the value: nothing (a bare assignment) or a command. `}` closes a `${X:-NNNN}`.
  const rest = text
    .slice(match.offset + match.length, lineEnd)
    .replace(/^[}"']+/, "")
    .trim();
  if (rest === "" || rest.startsWith("#")) {
    return {
      ...base,
      message: `${match.text} redefines ${variable}, which .env.shared already holds; drop this line and load .env.shared instead`,
    };
  }
  return {
    ...base,
    message: `${match.text} sets ${variable} for one command; load .env.shared before it instead, which holds ${variable}`,
  };
}

/** `KEY=` at a line's start, after `export`, `readonly`, `local` or `declare` with its flags. */
const ASSIGNED_KEY =
  /^\s*(?:(?:export|readonly|local|declare(?:\s+-[A-Za-z]+)*)\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;

type Emitter = {
  file: string;
  text: string;
  table: LineTable;
  findings: Finding[];
  occurrences: Map<string, number>;
};

function emit(emitter: Emitter, item: Pending, lineIndex: number, start: number, end: number): void {
  const { text, file } = emitter;
  const normalized = normalizeLine(text, start, end, item.offset);
  // The pattern, not the rule: the rule depends on the registry (a port registered later turns
  // unregistered-port into localhost-port), and a baselined finding must stay baselined then.
  // Compose drift sits where the published-port pattern matches once the registry agrees.
  const family = item.kind === "compose-drift" ? "published-port" : item.kind;
  const key = `${family}\0${normalized}`;
  const occurrence = emitter.occurrences.get(key) ?? 0;
  emitter.occurrences.set(key, occurrence + 1);
  const col = item.offset - start + 1;
  emitter.findings.push({
    file,
    line: lineIndex + 1,
    col,
    endCol: col + item.length,
    rule: item.rule,
    kind: item.kind,
    port: item.port,
    message: item.message,
    ...(item.service ? { service: item.service } : {}),
    ...(item.replacement ? { replacement: item.replacement } : {}),
    snippet: snippetOf(text, start, end, item.offset),
    fingerprint: fingerprintOf(family, file, normalized, occurrence),
  });
}

/** The marker on the item's line, or on a comment-only line just above it. */
function markerFor(text: string, table: LineTable, markers: Marker[], lineIndex: number): Marker | undefined {
  const { start, end } = lineBounds(text, table, lineIndex);
  const marker = markerIn(markers, start, end);
  if (marker || lineIndex === 0) return marker;
  const previous = lineBounds(text, table, lineIndex - 1);
  return isCommentOnly(text, previous.start, previous.end)
    ? markerIn(markers, previous.start, previous.end)
    : undefined;
}

function emitFindings(file: string, text: string, ordered: readonly Pending[]): SourceResult {
  const emitter: Emitter = { file, text, table: createLineTable(text), findings: [], occurrences: new Map() };
  const markers = findMarkers(text);
  const reportedMarkers = new Set<number>();
  let suppressed = 0;
  for (const item of ordered) {
    const lineIndex = lineIndexOf(emitter.table, item.offset);
    const marker = markers.length > 0 ? markerFor(text, emitter.table, markers, lineIndex) : undefined;
    if (marker && isValidReason(marker.reason)) {
      suppressed++;
      continue;
    }
    if (marker && !reportedMarkers.has(marker.offset)) {
      reportedMarkers.add(marker.offset);
      emitMarker(emitter, marker, item.port);
    }
    const { start, end } = lineBounds(text, emitter.table, lineIndex);
    emit(emitter, item, lineIndex, start, end);
  }
  emitter.findings.sort((a, b) => a.line - b.line || a.col - b.col);
  return { findings: emitter.findings, suppressed };
}

/** A marker without a reason: a finding of its own, on the marker's line. */
function emitMarker(emitter: Emitter, marker: Marker, port: number): void {
  const { text } = emitter;
  const markerLine = lineIndexOf(emitter.table, marker.offset);
  const bounds = lineBounds(text, emitter.table, markerLine);
  const name = ALLOW_MARKERS.find((candidate) => text.startsWith(candidate, marker.offset)) ?? "ports:allow";
  emit(
    emitter,
    {
      offset: marker.offset,
      length: name.length,
      port,
      kind: "marker",
      rule: "allow-missing-reason",
      message: `${name} needs a reason, for example "${name} docs example of a local URL"; until then the port stays reported`,
    },
    markerLine,
    bounds.start,
    bounds.end,
  );
}

// A scan visits each file once: the optimizing compiler would cost more than it saves (lib/jit.ts).
skipOptimizingCompiler(scanSource, collectPending, emitFindings, emit, markerFor, findMarkers);
