/**
 * The loader's fast path (Bun's native parser behind a conservative line scan) must never change
 * a verdict: for any input, parseRegistry and the careful yaml-library path agree exactly.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import fc from "fast-check";
import { parseCarefully, parseRegistry } from "../../lib/load.ts";
import { isPlainYaml, readPlainFast } from "../../lib/load-fast.ts";
import { validateParsed } from "../../lib/validate.ts";

const ROOT = join(import.meta.dir, "..", "..");
const DEFAULT_SOURCE = await Bun.file(join(ROOT, "config/ports/registry.yaml")).text();
const FIXTURE_SOURCE = await Bun.file(join(ROOT, "fixtures/validate/tradingsystem/registry.yaml")).text();

/** Snippets that the careful path treats specially, or that two YAML parsers may read differently. */
const TRICKY = [
  "0755",
  "no",
  "No",
  "yes",
  "on",
  "OFF",
  "y",
  "22:22",
  "1_000",
  "4007.0",
  "1e3",
  "0x1F91",
  "0o17",
  "+12",
  "-0",
  ".inf",
  ".NaN",
  "~",
  "Null",
  "NULL",
  "True",
  "FALSE",
  "&anchor 1",
  "*anchor",
  "!!str 12",
  "!custom x",
  '"a\\nb"',
  "'it''s'",
  '"unterminated',
  "'unterminated",
  "|",
  ">-",
  "{a: 1, a: 2}",
  "{a: 1}",
  "[1, [2]]",
  "[a, b]",
  "key: value: x",
  "x #comment",
  "a#b",
  '"quoted" trailing',
  "@at",
  "`tick`",
  "%pct",
  "? q",
  "- item",
  "[",
  "}",
  "__proto__",
  "constructor",
  "4007",
  "\u2028",
  "é",
  "日本",
  '"\\u0000"',
  "'\\'",
  "-",
  "- - x",
];
const LINES = [
  "  __proto__: 1",
  "%YAML 1.1",
  "---",
  "...",
  "\tport: 1",
  "  ? complex",
  "description: |",
  "  continued text",
];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("value" as const), line: fc.nat(), token: fc.constantFrom(...TRICKY) }),
  fc.record({
    kind: fc.constant("insert" as const),
    line: fc.nat(),
    token: fc.constantFrom(...LINES, ...TRICKY),
  }),
  fc.record({ kind: fc.constant("duplicate" as const), line: fc.nat(), token: fc.constant("") }),
  fc.record({ kind: fc.constant("indent" as const), line: fc.nat(), token: fc.constantFrom(" ", "  ", "") }),
  fc.record({ kind: fc.constant("delete" as const), line: fc.nat(), token: fc.constant("") }),
);

function mutate(source: string, mutations: { kind: string; line: number; token: string }[]): string {
  const lines = source.split("\n");
  for (const { kind, line, token } of mutations) {
    const index = line % lines.length;
    const text = lines[index] ?? "";
    if (kind === "value") {
      const colon = text.indexOf(": ");
      lines[index] = colon >= 0 ? `${text.slice(0, colon + 2)}${token}` : `${text} ${token}`;
    } else if (kind === "insert") {
      const indent = text.length - text.trimStart().length;
      lines.splice(
        index,
        0,
        token.includes(":") || token.startsWith("-")
          ? " ".repeat(indent) + token
          : `${" ".repeat(indent)}x-note: ${token}`,
      );
    } else if (kind === "duplicate") {
      lines.splice(index, 0, text);
    } else if (kind === "indent") {
      lines[index] = token + text;
    } else {
      lines.splice(index, 1);
    }
  }
  return lines.join("\n");
}

function verdict(parsed: ReturnType<typeof parseRegistry>) {
  const validation = validateParsed(parsed);
  return { registry: parsed.registry, diagnostics: validation.diagnostics };
}

describe("loader fast path", () => {
  test("takes the fast path for the default registry and the real-world fixture", () => {
    expect(isPlainYaml(DEFAULT_SOURCE)).toBe(true);
    expect(isPlainYaml(FIXTURE_SOURCE)).toBe(true);
    expect(readPlainFast(DEFAULT_SOURCE)).toBeDefined();
  });

  test.each([
    ["an anchor", "a: &x 1\nb: *x\n"],
    ["a tag", "a: !!str 12\n"],
    ["a YAML 1.1 boolean", "a: no\n"],
    ["an octal look-alike", "a: 0755\n"],
    ["a float port", "port: 4007.0\n"],
    ["a duplicate key", "a: 1\na: 2\n"],
    ["a duplicate key in a list item", "s:\n  - a: 1\n    a: 2\n"],
    ["a duplicate flow key", "a: {b: 1, b: 2}\n"],
    ["a reserved key", "__proto__: 1\n"],
    ["a directive", "%YAML 1.1\n---\na: 1\n"],
    ["a tab", "a:\n\tb: 1\n"],
    ["a block scalar", "a: |\n  text\n"],
    ["an escaped string", 'a: "x\\ny"\n'],
    ["a continuation line", "a: one\n  two\n"],
  ])("declines %s", (_, source) => {
    expect(isPlainYaml(source)).toBe(false);
  });

  test("the same list item keys in two items are not duplicates", () => {
    expect(isPlainYaml("s:\n  - a: 1\n    b: 2\n  - a: 3\n    b: 4\n")).toBe(true);
  });

  test("property: any mutation of a real registry gets the same verdict from both paths", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(DEFAULT_SOURCE, FIXTURE_SOURCE),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (base, mutations) => {
          const source = mutate(base, mutations);
          expect(verdict(parseRegistry(source, "r.yaml"))).toEqual(verdict(parseCarefully(source, "r.yaml")));
        },
      ),
      { numRuns: 150 },
    );
  }, 60_000);
});
