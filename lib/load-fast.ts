/**
 * The fast path of the loader. Most registries are plain block YAML: keys, quoted strings,
 * decimal integers, small flow collections. For those, Bun's native YAML parser gives the same
 * data as the `yaml` library at a fraction of the start-up and parse cost.
 *
 * `readPlainFast` answers only when a conservative line scan proves the file holds none of the
 * constructs the careful path exists for (anchors, aliases, tags, directives, block scalars,
 * multi-line or escaped strings, duplicate keys, reserved keys, YAML 1.1 look-alikes, numbers not
 * written as plain decimal integers). On any doubt it returns undefined and the caller takes the
 * careful path, which produces every positioned diagnostic.
 */
import { RESERVED_NAMES } from "./schema.ts";

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const RISKY_OUTSIDE_QUOTES = /[&*!|>%@`?\\]/;
const PLAIN_DECIMAL_INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
/** Anything the YAML 1.2 core schema could read as a number, or YAML 1.1 as a number or boolean. */
const NUMBER_LIKE =
  /^[-+]?(?:[0-9][0-9_:]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|0[xXoObB][0-9a-fA-F_]+|\.(?:inf|Inf|INF|nan|NaN|NAN))$/;
const KEYWORD_LIKE =
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|True|TRUE|False|FALSE|Null|NULL|~)$/;

type Context = { col: number; keys: Set<string> };

/** Blanks out quoted strings (keeping their length) and drops a trailing comment; undefined if unsure. */
function maskLine(line: string): string | undefined {
  if (!/["'#]/.test(line)) return line.trimEnd();
  let out = "";
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (char === '"' || char === "'") {
      const end = line.indexOf(char, i + 1);
      if (end < 0) return undefined; // a string continues on the next line
      const body = line.slice(i + 1, end);
      if (body.includes("\\") || (char === "'" && line[end + 1] === "'")) return undefined;
      out += `"${"_".repeat(body.length)}"`;
      i = end;
      continue;
    }
    if (char === "#" && (i === 0 || line[i - 1] === " ")) break;
    out += char;
  }
  return out.trimEnd();
}

function isSafeScalarToken(token: string): boolean {
  if (token === "" || token === "true" || token === "false" || token === "null") return true;
  if (KEYWORD_LIKE.test(token)) return false;
  if (NUMBER_LIKE.test(token)) return PLAIN_DECIMAL_INTEGER.test(token);
  return true;
}

/** Checks a flow collection written on one line: balanced, one level deep, unique keys, safe scalars. */
function isSafeFlow(text: string): boolean {
  let depth = 0;
  for (const char of text) {
    if (char === "[" || char === "{") depth++;
    else if (char === "]" || char === "}") depth--;
    if (depth > 1 || depth < 0) return false;
  }
  if (depth !== 0) return false;
  const inner = text.slice(1, -1);
  if (!(text.endsWith("]") || text.endsWith("}"))) return false;
  const keys = new Set<string>();
  for (const part of inner.split(",")) {
    const item = part.trim();
    if (item === "") continue;
    const colon = item.indexOf(":");
    let value = item;
    if (text.startsWith("{")) {
      if (colon < 0) return false;
      const key = item.slice(0, colon).trim();
      if (!KEY.test(key) || keys.has(key) || isReserved(key)) return false;
      keys.add(key);
      value = item.slice(colon + 1).trim();
    } else if (colon >= 0 && /:(\s|$)/.test(item)) {
      return false; // a mapping inside a flow sequence
    }
    if (value.includes(" ") && !value.startsWith('"')) return false;
    if (!isSafeScalarToken(value)) return false;
  }
  return true;
}

/** Reserved names, and keys YAML reads as booleans or null (the careful path rejects those keys). */
const RESERVED = new Set<string>(RESERVED_NAMES);
const NON_STRING_KEY = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL)$/;
function isReserved(key: string): boolean {
  return RESERVED.has(key) || NON_STRING_KEY.test(key) || KEYWORD_LIKE.test(key);
}

function isSafeValue(value: string): boolean {
  if (value === "") return true;
  if (value.startsWith("[") || value.startsWith("{")) return isSafeFlow(value);
  if (/[[\]{}]/.test(value) && !value.startsWith('"')) return false;
  if (value.startsWith('"')) return /^"_*"$/.test(value);
  if (/:(\s|$)/.test(value) || value.startsWith("- ") || value === "-") return false;
  if (value.startsWith(",")) return false;
  for (const token of value.split(" ")) if (!isSafeScalarToken(token)) return false;
  return true;
}

/** Proves the file is plain block YAML that both parsers read alike, or returns false. */
export function isPlainYaml(source: string): boolean {
  if (source.charCodeAt(0) === 0xfeff || /[\t\r\0\u0085\u2028\u2029]/.test(source)) return false;
  const contexts: Context[] = [];
  for (const line of source.split("\n")) {
    const masked = maskLine(line);
    if (masked === undefined) return false;
    if (masked.trim() === "") continue;
    if (RISKY_OUTSIDE_QUOTES.test(masked)) return false;
    if (masked.startsWith("---") || masked.startsWith("...")) return false;
    let col = masked.length - masked.trimStart().length;
    let rest = masked.slice(col);
    let hasDash = false;
    while (rest === "-" || rest.startsWith("- ")) {
      hasDash = true;
      const next = rest.slice(1).trimStart();
      col += rest.length - next.length;
      rest = next;
    }
    while (contexts.length > 0 && (contexts.at(-1) as Context).col > col) contexts.pop();
    if (hasDash) {
      while (contexts.length > 0 && (contexts.at(-1) as Context).col >= col) contexts.pop();
    }
    if (rest === "") continue; // "-" alone: a nested block follows
    const match = /^([^\s:"[\]{},]+):(?: +(.*))?$/.exec(rest);
    if (!match) {
      if (!hasDash) return false; // a continuation line or a bare scalar
      if (!isSafeValue(rest)) return false;
      continue;
    }
    const key = match[1] as string;
    if (!KEY.test(key) || isReserved(key)) return false;
    let context = contexts.at(-1);
    if (!context || context.col !== col) {
      context = { col, keys: new Set() };
      contexts.push(context);
    }
    if (context.keys.has(key)) return false;
    context.keys.add(key);
    if (!isSafeValue((match[2] ?? "").trim())) return false;
  }
  return true;
}

/** Plain data from a file the scan proves plain, or undefined to take the careful path. */
export function readPlainFast(source: string): unknown {
  if (!isPlainYaml(source)) return undefined;
  try {
    const data = Bun.YAML.parse(source);
    return data !== null && typeof data === "object" && !Array.isArray(data) ? data : undefined;
  } catch {
    return undefined;
  }
}
