/**
 * The fast path of the loader. Most registries are plain block YAML: keys, quoted strings,
 * decimal integers, small flow collections. For those, one pass over the lines builds the same
 * data as the `yaml` library, at a fraction of the start-up and parse cost.
 *
 * `readPlainFast` answers only when every line is one of the few shapes it knows, and declines
 * (returns undefined) on anything the careful path exists for: anchors, aliases, tags, directives,
 * block scalars, multi-line or escaped strings, duplicate keys, reserved keys, YAML 1.1
 * look-alikes, numbers not written as plain decimal integers, deep nesting. The caller then takes
 * the careful path, which produces every positioned diagnostic. Tests hold both paths to the same
 * data and the same verdict.
 */
import { skipOptimizingCompiler } from "./jit.ts";
import { RESERVED_NAMES } from "./registry-constants.ts";

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Control characters, tabs, CR, BOM and Unicode line separators: left to the careful path. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_SOURCE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/;
/** Characters that start something other than a plain scalar (indicators, quotes handled apart). */
const INDICATOR_START = /^[-?:,[\]{}#&*!|>%@`]/;
const PLAIN_DECIMAL_INTEGER = /^(?:0|[1-9][0-9]*)$/;
/** Anything the YAML 1.2 core schema could read as a number, or YAML 1.1 as a number or boolean. */
const NUMBER_LIKE =
  /^[-+]?(?:[0-9][0-9_:]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|0[xXoObB][0-9a-fA-F_]+|\.(?:inf|Inf|INF|nan|NaN|NAN))$/;
/** A YAML 1.1 timestamp's start: the careful path reports the whole form. */
const TIMESTAMP_LIKE = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:$|[Tt \t])/;
const KEYWORD_LIKE =
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|True|TRUE|False|FALSE|Null|NULL|~)$/;
const KEYWORD_FIRST = new Set([..."yYnNoOTFN~"].map((char) => char.charCodeAt(0)));
/** What a one-line plain scalar may not hold: `: `, a trailing `:`, flow brackets. */
const PLAIN_TROUBLE = /: |:$|[[\]{}]/;
/** Reserved names, and keys YAML reads as booleans or null (the careful path rejects those keys). */
const RESERVED = new Set<string>(RESERVED_NAMES);
const NON_STRING_KEY = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL)$/;

/** Beyond this many open collections the careful path (and its depth cap) decides. */
const MAX_FAST_DEPTH = 16;

/** Returned by the value readers when a line is not one of the known shapes. */
const DECLINE: unique symbol = Symbol("decline");
type Declined = typeof DECLINE;

type Mapping = Record<string, unknown>;
type Frame = { indent: number; node: Mapping | unknown[]; isSequence: boolean };

/**
 * Accepted keys, by their text: registries repeat a few dozen keys thousands of times, and one
 * lookup here is cheaper than the pattern tests (and the later property operations get a
 * canonical string).
 */
const acceptedKeys = new Map<string, string>();

/** The canonical key string, or undefined when the key is not plain or already in `mapping`. */
function acceptKey(key: string, mapping: Mapping): string | undefined {
  let canonical = acceptedKeys.get(key);
  if (canonical === undefined) {
    if (!KEY.test(key) || RESERVED.has(key) || NON_STRING_KEY.test(key) || KEYWORD_LIKE.test(key)) {
      return undefined;
    }
    canonical = key;
    if (acceptedKeys.size < 4096) acceptedKeys.set(key, canonical);
  }
  return Object.hasOwn(mapping, canonical) ? undefined : canonical;
}

/** A plain scalar on one line, without its trailing comment: string, integer, boolean or null. */
function readPlain(text: string, isFlow: boolean): unknown {
  if (text === "" || INDICATOR_START.test(text) || PLAIN_TROUBLE.test(text)) return DECLINE;
  const start = text.charCodeAt(0);
  // A date (and time) in YAML 1.1; only a digit starts one.
  if (start >= 48 && start <= 57 && TIMESTAMP_LIKE.test(text)) return DECLINE;
  if (text.includes(" ")) return isFlow ? DECLINE : text;
  if (text.charCodeAt(0) === 34 || text.charCodeAt(0) === 39) return DECLINE;
  if (text === "true") return true;
  if (text === "false") return false;
  if (text === "null") return null;
  const first = text.charCodeAt(0);
  // Only tokens starting with a digit, a sign or a dot can read as numbers; only these letters
  // (and ~) start a YAML 1.1 keyword.
  if ((first >= 48 && first <= 57) || first === 43 || first === 45 || first === 46) {
    if (NUMBER_LIKE.test(text)) return PLAIN_DECIMAL_INTEGER.test(text) ? Number(text) : DECLINE;
  } else if (KEYWORD_FIRST.has(first) && KEYWORD_LIKE.test(text)) {
    return DECLINE;
  }
  return text;
}

/**
 * Space trims. YAML's only whitespace is the space and the tab (tabs never reach this reader);
 * JavaScript's trim also removes NBSP, U+3000 and the other Unicode spaces, which YAML reads as
 * text.
 */
function trimSpacesStart(text: string): string {
  let start = 0;
  while (text.charCodeAt(start) === 32) start++;
  return start === 0 ? text : text.slice(start);
}

function trimSpacesEnd(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 32) end--;
  return end === text.length ? text : text.slice(0, end);
}

function trimSpaces(text: string): string {
  return trimSpacesEnd(trimSpacesStart(text));
}

/** True when `tail` (what follows a value) is empty or a comment. */
function isBlankOrComment(tail: string): boolean {
  const trimmed = trimSpacesStart(tail);
  return trimmed === "" || (trimmed.charCodeAt(0) === 35 && trimmed.length < tail.length);
}

/** A quoted scalar at the start of `text`, without escapes: [value, rest of the text]. */
function readQuoted(text: string): [string, string] | Declined {
  const quote = text[0] as string;
  const end = text.indexOf(quote, 1);
  if (end < 0) return DECLINE; // a string continues on the next line
  const body = text.slice(1, end);
  if (quote === '"' ? body.includes("\\") : text.charCodeAt(end + 1) === 39) return DECLINE;
  return [body, text.slice(end + 1)];
}

/** One flow item: a quoted scalar or a single plain token. */
function readFlowScalar(item: string): unknown {
  const first = item.charCodeAt(0);
  if (first === 34 || first === 39) {
    const quoted = readQuoted(item);
    return quoted === DECLINE || trimSpaces(quoted[1]) !== "" ? DECLINE : quoted[0];
  }
  return readPlain(item, true);
}

/** A flow collection on one line, one level deep, followed by nothing or a comment. */
function readFlow(text: string): unknown {
  const isMapping = text.charCodeAt(0) === 123;
  const items = splitFlowItems(text, isMapping ? 125 : 93);
  if (items === DECLINE) return DECLINE;
  return isMapping ? readFlowMapping(items) : readFlowSequence(items);
}

/** The trimmed items between the brackets (none for `[]`), or DECLINE for nesting or a bad tail. */
function splitFlowItems(text: string, close: number): string[] | Declined {
  const items: string[] = [];
  let itemStart = 1;
  for (let i = 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 34 || code === 39) {
      const next = text.indexOf(text[i] as string, i + 1);
      if (next < 0) return DECLINE;
      i = next;
    } else if (code === 44) {
      items.push(trimSpaces(text.slice(itemStart, i)));
      itemStart = i + 1;
    } else if (code === close) {
      if (!isBlankOrComment(text.slice(i + 1))) return DECLINE;
      const last = trimSpaces(text.slice(itemStart, i));
      if (items.length > 0 || last !== "") items.push(last);
      return items;
    } else if (code === 91 || code === 123 || code === 93 || code === 125 || code === 35) {
      return DECLINE;
    }
  }
  return DECLINE;
}

function readFlowMapping(items: readonly string[]): Mapping | Declined {
  const mapping: Mapping = {};
  for (const item of items) {
    const colon = item.indexOf(": ");
    if (colon <= 0) return DECLINE;
    const key = acceptKey(item.slice(0, colon), mapping);
    if (key === undefined) return DECLINE;
    const value = readFlowScalar(trimSpaces(item.slice(colon + 2)));
    if (value === DECLINE) return DECLINE;
    mapping[key] = value;
  }
  return mapping;
}

function readFlowSequence(items: readonly string[]): unknown[] | Declined {
  const sequence: unknown[] = [];
  for (const item of items) {
    const value = readFlowScalar(item);
    if (value === DECLINE) return DECLINE;
    sequence.push(value);
  }
  return sequence;
}

/** The value after `key: ` or `- `: a scalar or a flow collection, with an optional comment. */
function readValue(text: string): unknown {
  const first = text.charCodeAt(0);
  if (first === 34 || first === 39) {
    const quoted = readQuoted(text);
    return quoted === DECLINE || !isBlankOrComment(quoted[1]) ? DECLINE : quoted[0];
  }
  if (first === 91 || first === 123) return readFlow(text);
  const comment = text.indexOf(" #");
  return readPlain(trimSpacesEnd(comment < 0 ? text : text.slice(0, comment)), false);
}

/**
 * The reader's state. The work is split into small functions on purpose: one long loop body
 * makes the engine's optimizing compiler spend more time than the read itself.
 */
type Reader = {
  source: string;
  root: Mapping;
  frames: Frame[];
  /**
   * A `key:` with nothing after it: a nested block follows, or the value is null. Kept as three
   * fields rather than an object, as thousands of keys in a large registry are like that.
   */
  pendingMapping: Mapping | undefined;
  pendingKey: string;
  pendingIndent: number;
  /** Line number (1-based) and start offset of the line being read. */
  line: number;
  lineStart: number;
  /** Where each key and value starts, when asked for (see `locatePlain`). */
  positions?: Positions;
};

export type Position = { line: number; col: number };
type NodePositions = { key?: Position; value?: Position };
/** Per container (mapping or list), per key or index: where its key and value start. */
type Positions = { root?: Position; byContainer: WeakMap<object, Map<string | number, NodePositions>> };

function record(reader: Reader, container: object, key: string | number, at: NodePositions): void {
  const positions = reader.positions;
  if (!positions) return;
  let entries = positions.byContainer.get(container);
  if (!entries) {
    entries = new Map();
    positions.byContainer.set(container, entries);
  }
  entries.set(key, { ...entries.get(key), ...at });
}

function positionOf(reader: Reader, offset: number): Position {
  return { line: reader.line, col: offset - reader.lineStart + 1 };
}

/** Plain data from a file of known shapes, or undefined to take the careful path. */
export function readPlainFast(source: string): Mapping | undefined {
  return readWith(source, undefined);
}

function readWith(source: string, positions: Positions | undefined): Mapping | undefined {
  if (UNSAFE_SOURCE.test(source)) return undefined;
  const reader: Reader = {
    source,
    root: {},
    frames: [],
    pendingMapping: undefined,
    pendingKey: "",
    pendingIndent: 0,
    line: 0,
    lineStart: 0,
    positions,
  };
  let lineStart = 0;
  while (lineStart < source.length) {
    let lineEnd = source.indexOf("\n", lineStart);
    if (lineEnd < 0) lineEnd = source.length;
    reader.line++;
    reader.lineStart = lineStart;
    if (!readLine(reader, lineStart, lineEnd)) return undefined;
    lineStart = lineEnd + 1;
  }
  return reader.frames.length === 0 ? undefined : reader.root;
}

/**
 * Positions for a file the fast path reads: `locate(path, which)` answers as the careful path's
 * locate does (the node at `path`, or its key, or its nearest existing ancestor), or undefined
 * when it cannot tell (a node inside a flow collection, or a null value), so the caller asks the
 * careful path. Tests hold both to the same answers.
 */
export function locatePlain(
  source: string,
): ((path: readonly (string | number)[], which?: "key" | "value") => Position | undefined) | undefined {
  const positions: Positions = { byContainer: new WeakMap() };
  const root = readWith(source, positions);
  if (!root) return undefined;
  return (path, which = "value") => {
    const chain: unknown[] = [root];
    for (const step of path) {
      const parent = chain[chain.length - 1];
      if (parent === null || typeof parent !== "object" || !Object.hasOwn(parent, step)) break;
      chain.push((parent as Record<string | number, unknown>)[step]);
    }
    // The deepest node that exists (the careful path's nearest existing ancestor).
    const depth = chain.length - 1;
    if (depth === 0) return positions.root;
    const parent = chain[depth - 1] as object;
    const entry = positions.byContainer.get(parent)?.get(path[depth - 1] as string | number);
    if (which === "key" && depth === path.length && !Array.isArray(parent) && entry?.key) return entry.key;
    if (!entry?.value || chain[depth] === null) return undefined;
    return entry.value;
  };
}

/** One line, `lineStart` to `lineEnd` (without the newline); false to decline the file. */
function readLine(reader: Reader, lineStart: number, lineEnd: number): boolean {
  const { source } = reader;
  let at = lineStart;
  while (source.charCodeAt(at) === 32) at++;
  if (at === lineEnd || source.charCodeAt(at) === 35) return true; // blank or comment
  let to = lineEnd;
  while (source.charCodeAt(to - 1) === 32) to--;
  const col = at - lineStart;
  const isItem = source.charCodeAt(at) === 45 && (at + 1 === to || source.charCodeAt(at + 1) === 32);
  if (reader.frames.length === 0) {
    if (col !== 0 || isItem) return false;
    reader.frames.push({ indent: 0, node: reader.root, isSequence: false });
    if (reader.positions) reader.positions.root = positionOf(reader, at);
    return readEntry(reader, reader.root, at, to, 0);
  }
  const isRead = isItem ? readItemLine(reader, at, to, col) : readEntryLine(reader, at, to, col);
  return isRead && reader.frames.length <= MAX_FAST_DEPTH;
}

/** `- value` or `- key: value` at column `col`. */
function readItemLine(reader: Reader, at: number, to: number, col: number): boolean {
  const { source, frames } = reader;
  while ((frames[frames.length - 1] as Frame).indent > col) frames.pop();
  const pending = reader.pendingMapping;
  if (pending) {
    if (col >= reader.pendingIndent) {
      const sequence: unknown[] = [];
      pending[reader.pendingKey] = sequence;
      frames.push({ indent: col, node: sequence, isSequence: true });
      record(reader, pending, reader.pendingKey, { value: positionOf(reader, at) });
    }
    reader.pendingMapping = undefined;
  }
  const top = frames[frames.length - 1] as Frame;
  if (!top.isSequence || top.indent !== col) return false;
  let content = at + 1;
  while (content < to && source.charCodeAt(content) === 32) content++;
  if (content === to) return false; // "-" alone: a nested block follows
  const first = source.charCodeAt(content);
  if (first === 35) return false;
  if (first === 45 && (content + 1 === to || source.charCodeAt(content + 1) === 32)) return false; // "- - x"
  const sequence = top.node as unknown[];
  record(reader, sequence, sequence.length, { value: positionOf(reader, content) });
  if (isKeyAt(source, content, to)) {
    const mapping: Mapping = {};
    sequence.push(mapping);
    const itemCol = col + (content - at);
    frames.push({ indent: itemCol, node: mapping, isSequence: false });
    return readEntry(reader, mapping, content, to, itemCol);
  }
  const value = readValue(source.slice(content, to));
  if (value === DECLINE) return false;
  sequence.push(value);
  return true;
}

/** `key: value` or `key:` at column `col`. */
function readEntryLine(reader: Reader, at: number, to: number, col: number): boolean {
  const { frames } = reader;
  const pending = reader.pendingMapping;
  if (pending) {
    if (col > reader.pendingIndent) {
      const mapping: Mapping = {};
      pending[reader.pendingKey] = mapping;
      frames.push({ indent: col, node: mapping, isSequence: false });
      record(reader, pending, reader.pendingKey, { value: positionOf(reader, at) });
    }
    reader.pendingMapping = undefined;
  }
  let top = frames[frames.length - 1] as Frame;
  while (top.indent > col || (top.indent === col && top.isSequence)) {
    frames.pop();
    top = frames[frames.length - 1] as Frame;
  }
  if (top.isSequence || top.indent !== col) return false;
  return readEntry(reader, top.node as Mapping, at, to, col);
}

/** `key: value` or `key:` from `from` to `to`, into `mapping`. */
function readEntry(reader: Reader, mapping: Mapping, from: number, to: number, indent: number): boolean {
  const { source } = reader;
  const colon = source.indexOf(":", from);
  if (colon <= from || colon >= to) return false;
  const key = acceptKey(source.slice(from, colon), mapping);
  if (key === undefined) return false;
  let valueAt = colon + 1;
  if (valueAt < to && source.charCodeAt(valueAt) !== 32) return false;
  while (valueAt < to && source.charCodeAt(valueAt) === 32) valueAt++;
  mapping[key] = null;
  if (reader.positions) {
    const isInline = valueAt < to && source.charCodeAt(valueAt) !== 35;
    record(reader, mapping, key, {
      key: positionOf(reader, from),
      ...(isInline ? { value: positionOf(reader, valueAt) } : {}),
    });
  }
  if (valueAt === to || source.charCodeAt(valueAt) === 35) {
    reader.pendingMapping = mapping;
    reader.pendingKey = key;
    reader.pendingIndent = indent;
    return true;
  }
  const value = readValue(source.slice(valueAt, to));
  if (value === DECLINE) return false;
  mapping[key] = value;
  return true;
}

/** True when `from` starts `key:` followed by a space or the end: a mapping inside a list item. */
function isKeyAt(source: string, from: number, to: number): boolean {
  for (let at = from; at < to; at++) {
    const code = source.charCodeAt(at);
    if (code === 58) return at > from && (at + 1 === to || source.charCodeAt(at + 1) === 32);
    // whitespace, quotes, brackets, braces, comma and # end a plain key
    if (
      code === 32 ||
      code === 34 ||
      code === 39 ||
      code === 91 ||
      code === 93 ||
      code === 123 ||
      code === 125 ||
      code === 44 ||
      code === 35
    ) {
      return false;
    }
  }
  return false;
}

/** True when the fast path can read the file (see `readPlainFast`). */
export function isPlainYaml(source: string): boolean {
  return readPlainFast(source) !== undefined;
}

// One pass per file: the optimizing compiler would cost more than it saves (see lib/jit.ts).
skipOptimizingCompiler(
  readWith,
  readLine,
  readItemLine,
  readEntryLine,
  readEntry,
  readValue,
  readPlain,
  readQuoted,
  readFlow,
  splitFlowItems,
  readFlowMapping,
  readFlowSequence,
  readFlowScalar,
  isBlankOrComment,
  trimSpacesStart,
  trimSpacesEnd,
  isKeyAt,
  acceptKey,
);
