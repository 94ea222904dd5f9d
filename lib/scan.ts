/**
 * Hardcoded-port matching: source text in, pattern matches (offset, kind, port) out. Pure: no disk,
 * no process, no registry (lib/scan-findings.ts turns matches into findings).
 *
 * Every pattern starts at a literal anchor (a host name, a `port` key, an `env.` reference, a
 * `-p` flag) found by small regexes of plain alternatives, and everything after the anchor is
 * read by hand with bounded look-ahead. No pattern can backtrack over the line, so a 1 MB
 * single-line file costs the same per byte as any other file.
 */
import { skipOptimizingCompiler } from "./jit.ts";

/** The patterns, each a stable `kind`. A registered port reports under its kind's rule id. */
export const PATTERN_KINDS = [
  "localhost-port",
  "loopback-port",
  "any-address-port",
  "ipv6-loopback-port",
  "docker-host-port",
  "published-port",
  "port-assignment",
  "fallback-port",
] as const;
export type PatternKind = (typeof PATTERN_KINDS)[number];

export const SCAN_RULES = {
  "localhost-port": "localhost:NNNN with a literal port",
  "loopback-port": "127.0.0.1:NNNN with a literal port",
  "any-address-port": "0.0.0.0:NNNN or [::]:NNNN with a literal port",
  "ipv6-loopback-port": "[::1]:NNNN with a literal port",
  "docker-host-port": "host.docker.internal:NNNN with a literal port",
  "published-port": `a published port in compose ports: ("H:C", list items, \${VAR:-NNNN} defaults, published:) or docker -p`,
  "port-assignment": `PORT=NNNN, X_PORT: NNNN, { port: NNNN }, --port NNNN or \${X_PORT:-NNNN}`,
  "fallback-port": "process.env.X || NNNN, port ?? NNNN: a fallback is still hardcoded",
  "unregistered-port": "any of the patterns above with a port that no service in the registry owns",
  "compose-port-unknown": "a hand-written compose service publishes a port the registry does not know",
  "compose-port-mismatch": "a hand-written compose service publishes a port that differs from the registry",
  "allow-missing-reason": "a ports:allow or port-governance:ignore marker without a reason",
} as const;
export type ScanRuleId = keyof typeof SCAN_RULES;

export const ALLOW_MARKERS = ["ports:allow", "port-governance:ignore"] as const;

/** What a scanned file is, which decides the patterns that apply and how a fix is spelled. */
export type FileKind = "code" | "yaml" | "shell" | "json" | "env" | "dockerfile";

export type Finding = {
  file: string;
  line: number;
  col: number;
  /** Column just past the port digits (exclusive), for editors and SARIF regions. */
  endCol: number;
  rule: ScanRuleId;
  kind: PatternKind | "compose-drift" | "marker";
  port: number;
  message: string;
  /** The registered service that owns the port, when one does. */
  service?: string;
  /** What to write instead, for example `${TELEGRAM_MTPROTO_URL}`. */
  replacement?: string;
  /** The trimmed source line (at most 200 characters around the match). */
  snippet: string;
  /** Stable across unrelated line shifts: rule, path, normalised line content, occurrence index. */
  fingerprint: string;
};

/** A match before registry lookup and suppression. `offset` is where the port digits start. */
export type RawMatch = {
  offset: number;
  length: number;
  kind: PatternKind;
  port: number;
  /** The matched text as shown in the message, for example `localhost:NNNN`. */
  text: string;
  isFallback?: boolean;
};

export type DriftMatch = {
  offset: number;
  length: number;
  port: number;
  rule: "compose-port-unknown" | "compose-port-mismatch";
  message: string;
  service?: string;
  replacement?: string;
};

// ---------------------------------------------------------------------------------------------
// File kinds

const CODE_EXTENSIONS = new Set(["js", "ts", "jsx", "tsx", "mjs", "cjs", "mts", "cts"]);
const SHELL_EXTENSIONS = new Set(["sh", "bash", "zsh"]);

/** The file kind of a repository path, or undefined when the scanner does not read that type. */
export function classifyPath(path: string): FileKind | undefined {
  const slash = path.lastIndexOf("/");
  const base = path.slice(slash + 1);
  if (base === ".envrc" || base.startsWith(".envrc.")) return "shell"; // direnv: shell that exports variables
  if (base === ".env" || base.startsWith(".env.") || base.endsWith(".env")) return "env";
  if (base.startsWith("Dockerfile") || base.endsWith(".Dockerfile") || base.endsWith(".dockerfile"))
    return "dockerfile";
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const extension = base.slice(dot + 1).toLowerCase();
  if (CODE_EXTENSIONS.has(extension)) return "code";
  if (extension === "yml" || extension === "yaml") return "yaml";
  if (SHELL_EXTENSIONS.has(extension)) return "shell";
  if (extension === "json" || extension === "jsonc") return "json";
  return undefined;
}

/**
 * Files that sync generates carry this in their first lines; they are exempt. The same text as
 * lib/render.ts's GENERATED_MARKER (a test holds them equal), kept here so a scan never loads the
 * renderers and their templates.
 */
export const GENERATED_MARKER = "Generated by port-governance from";

export function isGeneratedSource(text: string): boolean {
  return text.slice(0, 1024).includes(GENERATED_MARKER);
}

// ---------------------------------------------------------------------------------------------
// Pattern matching

/**
 * Anchors: the places a match can start. Three passes of literal alternatives with bounded
 * look-aheads: port names, env references, and the rest, which include a `:digit` from which host
 * literals are found by looking back (one cheap pattern instead of five alternatives tried at every
 * position). Each is linear in the text length; no two kinds of literal can overlap, so the anchors
 * are the ones a single combined pattern finds.
 */
/**
 * `port`, `PORT` (or `PORT_HTTP`: up to four `_` segments after it) and `Port` before an operator,
 * a number, or (for a flag in an exec-form list) a comma and a quoted number. A key never ends in
 * `port` or `PORT` right after a letter or digit (`import`, `REPORT`), nor in `Port` after a
 * capital: the look-backs drop those here, where one native pass is cheap, instead of one call
 * each to the key reader.
 */
const KEY_ANCHORS =
  /(?<![A-Za-z0-9])(?:port|PORT)(?=(?:_[A-Za-z0-9]{1,32}){0,4}(?:["'\]]?[ \t]{0,16}(?:[:=]|\|\||\?\?)|[ \t]+\d|["'][ \t]{0,16},[ \t]{0,16}["']\d))|(?<![A-Z])Port(?=["'\]]?[ \t]{0,16}(?:[:=]|\|\||\?\?)|[ \t]+\d)/g;
/**
 * `env.X` or `env["X"]` where X is a port name as `isPortName` reads it: `PORT` or `port` at the
 * start or after `_` and not followed by a letter or digit, `Port` after a lower-case letter or digit
 * and not followed by one, or `Port` alone, within the 128 characters of a name `matchEnvReference`
 * reads. `env.REPORT_TIMEOUT` is not an anchor.
 */
const ENV_ANCHORS =
  /env(?=(?:\.|\[["'])(?:(?:[A-Za-z0-9_]{0,123}_)?(?:PORT|port)(?![A-Za-z0-9])|[A-Za-z0-9_]{0,123}[a-z0-9]Port(?![a-z0-9])|Port(?![A-Za-z0-9_])))/g;
/**
 * One pass for the anchors that start with a rarer character, each with its own first character:
 * `-p` or `--publish` before a port, `${X_PORT:-NNNN}` or `${X_PORT:=NNNN}` (a default that is
 * still a hardcoded port), `.listen(NNNN` in code (`app.listen(NNNN)`), and a colon before a digit,
 * where the host literals are found by looking back. Defaults and `.listen(` apply only in some files.
 */
const PUBLISH = String.raw`(?:--publish|-p)(?=[ =]?["']?(?:\d|\$\{[A-Za-z0-9_]{1,64}:?-\d))`;
const DEFAULT = String.raw`\$\{(?=[A-Za-z0-9_]{1,64}:?[-=]\d)`;
const LISTEN = String.raw`\.listen\((?=[ \t]{0,16}\d)`;
const COLON_DIGIT = String.raw`:\d`;
/** Indexed by `withDefaults` (1) plus `withListen` (2). */
const MARK_ANCHORS = [
  [PUBLISH, COLON_DIGIT],
  [PUBLISH, DEFAULT, COLON_DIGIT],
  [PUBLISH, LISTEN, COLON_DIGIT],
  [PUBLISH, DEFAULT, LISTEN, COLON_DIGIT],
].map((alternatives) => new RegExp(alternatives.join("|"), "g"));
/** Host literals by their last character, for the look-back from a colon. */
const HOSTS_BY_LAST_CHAR: Record<number, readonly string[]> = {
  116: ["localhost"], // t
  108: ["host.docker.internal"], // l
  49: ["127.0.0.1"], // 1
  48: ["0.0.0.0"], // 0
  93: ["[::]", "[::1]"], // ]
};

export type Anchor = { start: number; anchor: string };

/**
 * The anchors of `text`. `${X_PORT:-NNNN}` defaults are shell and Compose syntax, looked for only
 * where `withDefaults` (in code, `${port-1}` is a template literal's subtraction); `.listen(NNNN`
 * only where `withListen` (code).
 */
export function collectAnchors(text: string, withDefaults = true, withListen = false): Anchor[] {
  const anchors: Anchor[] = [];
  addPatternAnchors(KEY_ANCHORS, text, anchors);
  addPatternAnchors(ENV_ANCHORS, text, anchors);
  addMarkAnchors(MARK_ANCHORS[(withDefaults ? 1 : 0) + (withListen ? 2 : 0)] as RegExp, text, anchors);
  return anchors.length > 1 ? anchors.sort(byStart) : anchors;
}

function byStart(a: Anchor, b: Anchor): number {
  return a.start - b.start;
}

function addPatternAnchors(pattern: RegExp, text: string, anchors: Anchor[]): void {
  pattern.lastIndex = 0;
  for (let found = pattern.exec(text); found !== null; found = pattern.exec(text)) {
    anchors.push({ start: found.index, anchor: found[0] });
  }
}

/** The anchors of one of the `MARK_ANCHORS` patterns; host literals by looking back from a colon. */
function addMarkAnchors(pattern: RegExp, text: string, anchors: Anchor[]): void {
  pattern.lastIndex = 0;
  for (let found = pattern.exec(text); found !== null; found = pattern.exec(text)) {
    if (text.charCodeAt(found.index) === 58)
      addHostAnchor(text, found.index, anchors); // :
    else anchors.push({ start: found.index, anchor: found[0] });
  }
}

/** The host literal that ends at `colon`, if any. */
function addHostAnchor(text: string, colon: number, anchors: Anchor[]): void {
  const candidates = HOSTS_BY_LAST_CHAR[text.charCodeAt(colon - 1)];
  if (!candidates) return;
  for (const host of candidates) {
    if (text.endsWith(host, colon)) {
      anchors.push({ start: colon - host.length, anchor: host });
      return;
    }
  }
}

/** `PORT`, `API_PORT`, `PORT_HTTP`, `port`, `httpPort`: a port name, not `REPORT_TIMEOUT`. */
const PORT_NAME = /(?:^|_)(?:PORT|port)(?:_|$)|[a-z0-9]Port(?:[A-Z_]|$)|^Port$/;
/** Names that end in `port` but hold no port: bounds (`MAX_PORT`, `minPort`) and `viewPort`. */
const NOT_A_PORT_NAME =
  /(?:^|[-_.])(?:max|min|Max|Min|MAX|MIN)[-_]?(?:port|Port|PORT)$|(?:^|[-_.])[Vv]iewPort$/;

/**
 * Words that, after a name's port, make it a setting about ports rather than a port:
 * `PORT_TIMEOUT_MS`, `REDIS_PORT_RETRY_DELAY`, `healthPortCheckInterval`, `PORT_RANGE_START`, `PORT_POOL_SIZE`.
 * A qualifier that is not one of them stays a port: `PORT_HTTP`, `PORT_HEALTH_CHECK`, `PORT_SEC`.
 */
const PORT_SETTING_WORDS = new Set([
  // time
  "timeout",
  "delay",
  "interval",
  "retry",
  "retries",
  "wait",
  "attempts",
  "ttl",
  "ms",
  "secs",
  "second",
  "seconds",
  "grace",
  "period",
  "cooldown",
  "backoff",
  "duration",
  "deadline",
  // amounts and limits
  "count",
  "limit",
  "threshold",
  "backlog",
  "pool",
  "size",
  "offset",
  "id",
  // bounds of a range of ports
  "max",
  "min",
  "maximum",
  "minimum",
  "range",
  "start",
  "end",
  "lower",
  "upper",
  "bound",
]);
/** Words glued to a unit (`PORT_TIMEOUTMS`) still name a setting. */
const PORT_SETTING_PREFIXES = ["timeout", "interval", "delay", "retry"];
/** `_`, `-`, `.` and camelCase boundaries (`checkInterval`, `TimeoutMS`). */
const NAME_SEGMENT_BREAK = /[-_.]|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/;

function isPortSetting(name: string): boolean {
  const at = name.toLowerCase().lastIndexOf("port");
  if (at < 0 || at + 4 === name.length) return false;
  return name
    .slice(at + 4)
    .split(NAME_SEGMENT_BREAK)
    .some((segment) => {
      const word = segment.toLowerCase();
      return PORT_SETTING_WORDS.has(word) || PORT_SETTING_PREFIXES.some((prefix) => word.startsWith(prefix));
    });
}

export function isPortName(name: string): boolean {
  return PORT_NAME.test(name) && !NOT_A_PORT_NAME.test(name) && !isPortSetting(name);
}

/** Past `_HTTP`-like segments after a `port`/`PORT` anchor (as many as the anchor pattern allows). */
function skipNameSegments(text: string, at: number): number {
  let position = at;
  for (let segments = 0; segments < 4 && text.charCodeAt(position) === 95; segments++) {
    let end = position + 1;
    while (end - position <= 32 && isAlphanumericCode(text.charCodeAt(end))) end++;
    if (end === position + 1 || end - position > 33) break;
    position = end;
  }
  return position;
}

function isAlphanumericCode(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

const HOST_KINDS: Record<string, PatternKind> = {
  localhost: "localhost-port",
  "127.0.0.1": "loopback-port",
  "0.0.0.0": "any-address-port",
  "[::]": "any-address-port",
  "[::1]": "ipv6-loopback-port",
  "host.docker.internal": "docker-host-port",
};

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isWordCode(code: number): boolean {
  return (
    (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 // _
  );
}

function isKeyCode(code: number): boolean {
  return isWordCode(code) || code === 45 || code === 46; // - .
}

/** Reads 1 to 5 digits at `at` that are not followed by another digit, a letter or `.digit`. */
function readPort(text: string, at: number): { port: number; length: number } | undefined {
  let end = at;
  while (end < text.length && end - at <= 5 && isDigit(text.charCodeAt(end))) end++;
  const length = end - at;
  if (length === 0 || length > 5) return undefined;
  const next = text.charCodeAt(end);
  if (isWordCode(next)) return undefined;
  if (next === 46 && isDigit(text.charCodeAt(end + 1))) return undefined; // 3000.5, 127.0.0.1
  const port = Number(text.slice(at, end));
  if (port < 1 || port > 65535) return undefined;
  return { port, length };
}

function skipBlanks(text: string, at: number, limit = 16): number {
  let position = at;
  while (position < text.length && position - at < limit) {
    const code = text.charCodeAt(position);
    if (code !== 32 && code !== 9) break;
    position++;
  }
  return position;
}

/** `${NAME:-digits}` or `${NAME-digits}` at `at`: the offset of the default's digits. */
function readDefaultOf(text: string, at: number): { digitsAt: number; name: string } | undefined {
  if (text.charCodeAt(at) !== 36 || text.charCodeAt(at + 1) !== 123) return undefined; // ${
  let position = at + 2;
  const nameStart = position;
  while (position < text.length && position - nameStart < 128 && isWordCode(text.charCodeAt(position)))
    position++;
  if (position === nameStart) return undefined;
  const name = text.slice(nameStart, position);
  if (text.charCodeAt(position) === 58) position++; // :
  if (text.charCodeAt(position) !== 45) return undefined; // -
  return { digitsAt: position + 1, name };
}

function matchHost(text: string, start: number, anchor: string): RawMatch | undefined {
  const before = text.charCodeAt(start - 1);
  if (anchor === "localhost" || anchor === "host.docker.internal") {
    if (isWordCode(before) || before === 45) return undefined;
  } else if (anchor.startsWith("[")) {
    // bracketed IPv6 needs no boundary
  } else if (isDigit(before) || before === 46) {
    return undefined;
  }
  const digitsAt = start + anchor.length + 1;
  const read = readPort(text, digitsAt);
  if (!read) return undefined;
  const kind = HOST_KINDS[anchor] as PatternKind;
  return {
    offset: digitsAt,
    length: read.length,
    kind,
    port: read.port,
    text: `${anchor}:${read.port}`,
    isFallback: isAfterFallback(text, start),
  };
}

/** True when a `||` or `??` sits just before the string that holds the match. */
function isAfterFallback(text: string, start: number): boolean {
  let position = start - 1;
  const floor = Math.max(0, start - 64);
  while (position >= floor) {
    const code = text.charCodeAt(position);
    if (code === 10 || code === 34 || code === 39 || code === 96) break; // newline or a quote
    position--;
  }
  if (position < floor || text.charCodeAt(position) === 10) return false;
  let back = position - 1;
  while (back >= floor && (text.charCodeAt(back) === 32 || text.charCodeAt(back) === 9)) back--;
  const operator = text.slice(back - 1, back + 1);
  return operator === "||" || operator === "??";
}

/** After a value: blanks, `||` or `??`, blanks, an optional quote, then digits. */
function matchFallbackAfter(
  text: string,
  at: number,
): { digitsAt: number; port: number; length: number; operator: string } | undefined {
  let position = skipBlanks(text, at);
  const operator = text.slice(position, position + 2);
  if (operator !== "||" && operator !== "??") return undefined;
  position = skipBlanks(text, position + 2);
  const quote = text.charCodeAt(position);
  if (quote === 34 || quote === 39 || quote === 96) position++;
  const read = readPort(text, position);
  return read ? { digitsAt: position, operator, ...read } : undefined;
}

function matchEnvReference(text: string, start: number): RawMatch | undefined {
  let position = start + 3;
  let nameStart: number;
  let nameEnd: number;
  if (text.charCodeAt(position) === 46) {
    nameStart = position + 1;
    nameEnd = nameStart;
    while (nameEnd < text.length && nameEnd - nameStart < 128 && isWordCode(text.charCodeAt(nameEnd)))
      nameEnd++;
    position = nameEnd;
  } else {
    nameStart = position + 2;
    nameEnd = nameStart;
    while (nameEnd < text.length && nameEnd - nameStart < 128 && isWordCode(text.charCodeAt(nameEnd)))
      nameEnd++;
    position = nameEnd + 2; // closing quote and bracket
  }
  if (nameEnd === nameStart) return undefined;
  const name = text.slice(nameStart, nameEnd);
  // A URL fallback is matched by its host; other numbers (timeouts, retries) are not ports.
  if (!isPortName(name)) return undefined;
  position = skipRadix(text, position); // parseInt(process.env.X, 10) || 3000
  if (text.charCodeAt(position) === 41) position++; // Number(process.env.X) || 3000
  return matchFallback(text, position, `env.${name}`);
}

/** Past a `, 10` radix argument (one or two digits) up to the closing parenthesis, if there is one. */
function skipRadix(text: string, at: number): number {
  if (text.charCodeAt(at) !== 44) return at; // ,
  let position = skipBlanks(text, at + 1);
  const digitsAt = position;
  while (position - digitsAt < 2 && isDigit(text.charCodeAt(position))) position++;
  if (position === digitsAt) return at;
  position = skipBlanks(text, position);
  return text.charCodeAt(position) === 41 ? position : at;
}

/** `${X_PORT:-NNNN}`, `${X_PORT-NNNN}`, `${X_PORT:=NNNN}` on its own (a compose item or `KEY=` claims it first). */
function matchDefaultExpansion(text: string, start: number): RawMatch | undefined {
  let position = start + 2;
  const nameStart = position;
  while (position - nameStart < 64 && isWordCode(text.charCodeAt(position))) position++;
  const name = text.slice(nameStart, position);
  if (!isPortName(name)) return undefined;
  const operatorStart = position;
  if (text.charCodeAt(position) === 58) position++; // :
  const operator = text.charCodeAt(position);
  if (operator !== 45 && operator !== 61) return undefined; // - =
  position++;
  const read = readPort(text, position);
  if (!read || text.charCodeAt(position + read.length) !== 125) return undefined; // }
  return {
    offset: position,
    length: read.length,
    kind: "port-assignment",
    port: read.port,
    text: `\${${name}${text.slice(operatorStart, position)}${read.port}}`,
  };
}

/** A `|| NNNN` / `?? NNNN` fallback after `subject`, as a fallback-port match. */
function matchFallback(text: string, position: number, subject: string): RawMatch | undefined {
  const fallback = matchFallbackAfter(text, position);
  if (!fallback) return undefined;
  return {
    offset: fallback.digitsAt,
    length: fallback.length,
    kind: "fallback-port",
    port: fallback.port,
    text: `${subject} ${fallback.operator} ${fallback.port}`,
    isFallback: true,
  };
}

/** `PORT=NNNN`, `DB_PORT: NNNN`, `"port": NNNN`, `httpPort = NNNN`, `--port NNNN`, `${X_PORT:-NNNN}`. */
function matchPortKey(text: string, start: number, anchor: string): RawMatch | undefined {
  const anchorEnd = anchor === "Port" ? start + 4 : skipNameSegments(text, start + 4);
  let keyStart = start;
  while (keyStart > 0 && start - keyStart < 64 && isKeyCode(text.charCodeAt(keyStart - 1))) keyStart--;
  if (keyStart > 0 && isKeyCode(text.charCodeAt(keyStart - 1))) return undefined;
  if (keyStart < start) {
    const before = text.charCodeAt(start - 1);
    const isSeparated = before === 95 || before === 45 || before === 46; // _ - .
    const isCamel = anchor === "Port" && ((before >= 97 && before <= 122) || isDigit(before));
    if (!isSeparated && !isCamel) return undefined;
  }
  const key = text.slice(keyStart, anchorEnd);
  if (NOT_A_PORT_NAME.test(key) || isPortSetting(key)) return undefined;
  // `--port`, `--http-port`, `--server.port`, Go's `-port`: a flag whose value follows.
  const isFlag = text.startsWith("-", keyStart) && /^--?(?:[a-z0-9]+[-.])*port$/.test(key);
  let position = anchorEnd;
  const closing = text.charCodeAt(position);
  if (closing === 34 || closing === 39 || closing === 93) position++;
  position = skipBlanks(text, position);
  const operator = text.charCodeAt(position);
  if (operator === 124 || operator === 63) return matchFallback(text, position, key);
  if (operator === 61) {
    if (text.charCodeAt(position + 1) === 61 || text.charCodeAt(position + 1) === 62) return undefined; // == =>
    position++;
  } else if (operator === 58) {
    if (text.charCodeAt(position + 1) === 58) return undefined; // ::
    position++;
  } else if (isFlag && operator === 44 && (closing === 34 || closing === 39)) {
    position++; // an exec-form list: ["--port", "NNNN"]
  } else if (isFlag && position > anchorEnd) {
    // --port NNNN
  } else if (!isDockerfileEnvKey(text, keyStart, position)) {
    return undefined;
  }
  position = skipBlanks(text, position);
  const quote = text.charCodeAt(position);
  if (quote === 34 || quote === 39 || quote === 96) position++;
  const defaulted = readDefaultOf(text, position);
  if (defaulted) {
    const read = readPort(text, defaulted.digitsAt);
    if (!read) return undefined;
    return {
      offset: defaulted.digitsAt,
      length: read.length,
      kind: "port-assignment",
      port: read.port,
      text: `${key}=\${${defaulted.name}:-${read.port}}`,
    };
  }
  const read = readPort(text, position);
  if (!read) return undefined;
  const separator = operator === 58 ? ": " : operator === 61 ? "=" : " ";
  return {
    offset: position,
    length: read.length,
    kind: "port-assignment",
    port: read.port,
    text: `${key}${separator}${read.port}`,
  };
}

/** The old Dockerfile form `ENV KEY value`: the key follows `ENV` at the start of its line. */
function isDockerfileEnvKey(text: string, keyStart: number, valueAt: number): boolean {
  if (valueAt === keyStart || !isDigit(text.charCodeAt(valueAt))) return false;
  let position = keyStart;
  while (position > 0 && (text.charCodeAt(position - 1) === 32 || text.charCodeAt(position - 1) === 9))
    position--;
  if (position === keyStart || position < 3 || !/^env$/i.test(text.slice(position - 3, position)))
    return false;
  position -= 3;
  while (position > 0 && (text.charCodeAt(position - 1) === 32 || text.charCodeAt(position - 1) === 9))
    position--;
  return position === 0 || text.charCodeAt(position - 1) === 10;
}

/** `-p H:C`, `--publish IP:H:C`. */
function matchPublishFlag(text: string, start: number, anchor: string): RawMatch | undefined {
  const before = text.charCodeAt(start - 1);
  if (start > 0 && before !== 32 && before !== 9 && before !== 34 && before !== 39) return undefined;
  let position = start + anchor.length;
  const separator = text.charCodeAt(position);
  if (separator === 32 || separator === 61) position++; // a blank or "=" after the flag, or nothing
  const quote = text.charCodeAt(position);
  if (quote === 34 || quote === 39) position++;
  const end = Math.min(text.length, position + 64);
  let tokenEnd = position;
  while (tokenEnd < end) {
    const code = text.charCodeAt(tokenEnd);
    if (code === 32 || code === 9 || code === 10 || code === 34 || code === 39) break;
    tokenEnd++;
  }
  return publishedMatch(text, position, tokenEnd, `${anchor} ${text.slice(position, tokenEnd)}`);
}

/**
 * The host port of a compose/docker port mapping between `from` and `to`:
 * `H:C`, `IP:H:C`, `H1-H2:C1-C2`, `${VAR:-H}:C`, with an optional `/tcp` or `/udp`.
 * A bare `C` or `IP::C` publishes no fixed host port.
 */
export function readPublished(
  text: string,
  from: number,
  to: number,
): { digitsAt: number; port: number; length: number } | undefined {
  let mapping = text.slice(from, to);
  const slash = mapping.indexOf("/");
  if (slash >= 0) mapping = mapping.slice(0, slash);
  const lastColon = mapping.lastIndexOf(":");
  if (lastColon <= 0) return undefined;
  let hostPart = mapping.slice(0, lastColon);
  let hostAt = from;
  if (hostPart.startsWith("${")) {
    // handled below through readDefaultOf
  } else {
    const ipColon = hostPart.lastIndexOf(":");
    if (ipColon >= 0 && !hostPart.endsWith("]")) {
      hostAt = from + ipColon + 1;
      hostPart = hostPart.slice(ipColon + 1);
    }
  }
  if (hostPart === "") return undefined;
  const defaulted = readDefaultOf(text, hostAt);
  const digitsAt = defaulted ? defaulted.digitsAt : hostAt;
  let end = digitsAt;
  while (end < to && end - digitsAt <= 5 && isDigit(text.charCodeAt(end))) end++;
  const length = end - digitsAt;
  if (length === 0 || length > 5) return undefined;
  const next = text.charCodeAt(end);
  if (!defaulted && next !== 58 && next !== 45) return undefined; // followed by ":" or a range "-"
  if (defaulted && next !== 125) return undefined; // }
  const port = Number(text.slice(digitsAt, end));
  if (port < 1 || port > 65535) return undefined;
  return { digitsAt, port, length };
}

/** A calendar date, which a `published:` key in other YAML (release notes, posts) often holds. */
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A published port found by the line reader, with the compose service and list index it sits in. */
export type ComposePortMatch = RawMatch & { service?: string; item: number };

function readKeyName(text: string, at: number, lineEnd: number): string | undefined {
  let position = at;
  const quote = text.charCodeAt(position);
  if (quote === 34 || quote === 39) position++;
  const limit = Math.min(lineEnd, position + 201);
  let colon = position;
  while (colon < limit && text.charCodeAt(colon) !== 58) colon++;
  if (colon >= limit) return undefined;
  let end = colon;
  const last = text.charCodeAt(end - 1);
  if (last === 34 || last === 39) end--;
  return text.slice(position, end);
}

/**
 * Compose `ports:` blocks (block and flow lists, long syntax `published:`), read line by line,
 * remembering the top-level `services:` entry each list belongs to.
 */
export function locateComposePorts(text: string): ComposePortMatch[] {
  const found: ComposePortMatch[] = [];
  if (!text.includes("ports:")) return found; // long-syntax `published:` lives under `ports:` too
  let blockIndent = -1;
  let isInServices = false;
  let serviceIndent = -1;
  let service: string | undefined;
  let item = -1;
  const push = (match: RawMatch) =>
    found.push({ ...match, service: isInServices ? service : undefined, item });
  let isInFlow = false;
  const eachFlowItem = (match: RawMatch | undefined) => {
    item++;
    if (match) push(match);
  };
  let lineStart = 0;
  while (lineStart <= text.length) {
    let nextLine = text.indexOf("\n", lineStart);
    if (nextLine < 0) nextLine = text.length;
    const lineEnd = nextLine > lineStart && text.charCodeAt(nextLine - 1) === 13 ? nextLine - 1 : nextLine; // CRLF
    let indent = lineStart;
    while (indent < lineEnd && (text.charCodeAt(indent) === 32 || text.charCodeAt(indent) === 9)) indent++;
    const column = indent - lineStart;
    const isBlank = indent === lineEnd || text.charCodeAt(indent) === 35 || text.charCodeAt(indent) === 13;
    if (isInFlow && !isBlank) {
      // A flow list that continues over several lines: items until the closing bracket.
      isInFlow = !readFlowItems(text, indent, lineEnd, eachFlowItem);
    } else if (!isBlank) {
      if (column === 0) {
        isInServices = text.startsWith("services:", indent);
        serviceIndent = -1;
        service = undefined;
      } else if (isInServices) {
        if (serviceIndent < 0) serviceIndent = column;
        if (column === serviceIndent) service = readKeyName(text, indent, lineEnd);
      }
      if (blockIndent >= 0) {
        const isItem = text.charCodeAt(indent) === 45;
        if (column < blockIndent || (column === blockIndent && !isItem)) {
          blockIndent = -1;
        } else {
          if (isItem) item++;
          readPortItem(text, indent, lineEnd, push);
        }
      }
      if (blockIndent < 0) {
        let keyAt = indent;
        if (text.charCodeAt(keyAt) === 45) keyAt = skipBlanks(text, keyAt + 1);
        if (text.startsWith("ports:", keyAt)) {
          item = -1;
          let rest = skipBlanks(text, keyAt + 6, lineEnd - keyAt);
          if (text.charCodeAt(rest) === 38)
            rest = skipBlanks(text, skipAnchorName(text, rest, lineEnd), lineEnd - rest); // &name
          if (rest >= lineEnd || text.charCodeAt(rest) === 35) blockIndent = keyAt - lineStart;
          else if (text.charCodeAt(rest) === 91) {
            isInFlow = !readFlowItems(text, rest + 1, lineEnd, eachFlowItem);
          }
        } else if (text.startsWith("published:", keyAt)) {
          readPublishedKey(text, keyAt, lineEnd, push);
        }
      }
    }
    lineStart = nextLine + 1;
  }
  return found;
}

function readPortItem(text: string, at: number, lineEnd: number, push: (match: RawMatch) => void): void {
  let position = at;
  if (text.charCodeAt(position) === 45) position = skipBlanks(text, position + 1, lineEnd - position);
  if (text.startsWith("published:", position)) {
    readPublishedKey(text, position, lineEnd, push);
    return;
  }
  const quote = text.charCodeAt(position);
  if (quote === 34 || quote === 39) position++;
  let end = position;
  while (end < lineEnd) {
    const code = text.charCodeAt(end);
    if (code === 34 || code === 39 || code === 32 || code === 9 || code === 35 || code === 44) break;
    end++;
  }
  const match = publishedMatch(text, position, end);
  if (match) push(match);
}

/**
 * The items of a flow list from `at` to the end of the line; true when the list closes on this
 * line (or the line holds something else), false when it continues on the next.
 */
function readFlowItems(
  text: string,
  at: number,
  lineEnd: number,
  each: (match: RawMatch | undefined) => void,
): boolean {
  let position = at;
  while (position < lineEnd) {
    position = skipBlanks(text, position, lineEnd - position);
    const code = text.charCodeAt(position);
    if (code === 93) return true;
    if (position >= lineEnd || code === 35) return false; // the list goes on below
    if (code === 34 || code === 39) position++;
    let end = position;
    while (end < lineEnd) {
      const inner = text.charCodeAt(end);
      if (inner === 34 || inner === 39 || inner === 44 || inner === 93 || inner === 32) break;
      end++;
    }
    each(publishedMatch(text, position, end));
    // The next comma or closing bracket on this line: never searched for past it (a long file of
    // one unclosed list would otherwise be searched to its end once per item).
    let next = end;
    while (next < lineEnd && text.charCodeAt(next) !== 44 && text.charCodeAt(next) !== 93) next++;
    if (next >= lineEnd) return false;
    if (text.charCodeAt(next) === 93) return true;
    position = next + 1;
  }
  return false;
}

/** Past a YAML anchor name (`&name`) that starts at `at`. */
function skipAnchorName(text: string, at: number, lineEnd: number): number {
  let position = at + 1;
  while (position < lineEnd) {
    const code = text.charCodeAt(position);
    if (code === 32 || code === 9 || code === 35) break;
    position++;
  }
  return position;
}

function readPublishedKey(
  text: string,
  keyAt: number,
  lineEnd: number,
  push: (match: RawMatch) => void,
): void {
  let position = skipBlanks(text, keyAt + 10, lineEnd - keyAt);
  const quote = text.charCodeAt(position);
  if (quote === 34 || quote === 39) position++;
  const defaulted = readDefaultOf(text, position);
  const digitsAt = defaulted ? defaulted.digitsAt : position;
  if (!defaulted && DATE.test(text.slice(digitsAt, digitsAt + 10))) return; // published: 2024-01-05
  const read = readPort(text, digitsAt);
  if (!read) return;
  push({
    offset: digitsAt,
    length: read.length,
    kind: "published-port",
    port: read.port,
    text: `published: ${read.port}`,
  });
}

/** A published port between `from` and `to`, shown as `shown` (a compose item by default). */
function publishedMatch(
  text: string,
  from: number,
  to: number,
  shown = `ports: "${text.slice(from, to)}"`,
): RawMatch | undefined {
  const published = readPublished(text, from, to);
  if (!published) return undefined;
  return {
    offset: published.digitsAt,
    length: published.length,
    kind: "published-port",
    port: published.port,
    text: shown,
  };
}

/** `.listen(NNNN`: the port a server listens on, written into the code. */
function matchListen(text: string, start: number, anchor: string): RawMatch | undefined {
  const digitsAt = skipBlanks(text, start + anchor.length);
  const read = readPort(text, digitsAt);
  if (!read) return undefined;
  return {
    offset: digitsAt,
    length: read.length,
    kind: "port-assignment",
    port: read.port,
    text: `.listen(${read.port})`,
  };
}

/** Every pattern match in `text`, in offset order, at most one per port position. */
export function matchPatterns(text: string, fileKind: FileKind, minPort: number): RawMatch[] {
  const matches: RawMatch[] = [];
  const seen = new Set<number>();
  let isOrdered = true;
  const composed = fileKind === "yaml" ? locateComposePorts(text) : [];
  for (const match of composed) {
    if (match.port >= minPort && !seen.has(match.offset)) {
      seen.add(match.offset);
      matches.push(match);
    }
  }
  const anchors = collectAnchors(text, fileKind !== "code" && fileKind !== "json", fileKind === "code");
  for (const { start, anchor } of anchors) {
    const first = anchor.charCodeAt(0);
    let match: RawMatch | undefined;
    if (first === 46)
      match = matchListen(text, start, anchor); // .
    else if (first === 101)
      match = matchEnvReference(text, start); // e
    else if (first === 112 || first === 80)
      match = matchPortKey(text, start, anchor); // p P
    else if (first === 45)
      match = matchPublishFlag(text, start, anchor); // -
    else if (first === 36)
      match = matchDefaultExpansion(text, start); // $
    else match = matchHost(text, start, anchor);
    // The first claim on a port position wins: compose items, then the earliest anchor.
    if (match && match.port >= minPort && !seen.has(match.offset)) {
      seen.add(match.offset);
      const last = matches[matches.length - 1];
      if (last && last.offset > match.offset) isOrdered = false;
      matches.push(match);
    }
  }
  return isOrdered ? matches : matches.sort((a, b) => a.offset - b.offset);
}

// A scan visits each file once: the optimizing compiler would cost more than it saves (lib/jit.ts).
skipOptimizingCompiler(
  matchDefaultExpansion,
  collectAnchors,
  addPatternAnchors,
  addMarkAnchors,
  addHostAnchor,
  matchPatterns,
  matchHost,
  matchEnvReference,
  matchPortKey,
  matchListen,
  matchPublishFlag,
  locateComposePorts,
  readPort,
);
