/**
 * The loader's fast path (Bun's native parser behind a conservative line scan) must never change
 * a verdict: for any input, parseRegistry and the careful yaml-library path agree exactly.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import fc from "fast-check";
import { parseDocument } from "yaml";
import { parseCarefully, parseRegistry } from "../../lib/load.ts";
import { isPlainYaml, locatePlain, readPlainFast } from "../../lib/load-fast.ts";
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
  "O'Brien's team",
  "a #b",
  '"x # y"',
  "'#' # c",
  "[]",
  "{}",
  "[ a , b ]",
  "[a, b,]",
  "{a: }",
  "{a:1}",
  "http://x:1/y",
  "a:b",
  "1.0.0",
  "1e",
  "\u0001",
  // Unicode spaces are not YAML whitespace: part of a plain scalar, junk after a quoted one.
  "Team A\u00a0",
  "\u3000Team",
  '"quoted"\u00a0',
  "[a,\u2003b]",
  "{a: 1\u00a0}",
  "x\u00a0# not a comment",
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

/** Runs `check` on mutations of the real registries (1 to `maxMutations` edits each). */
function forMutatedRegistries(check: (source: string) => void, numRuns: number, maxMutations = 4): void {
  fc.assert(
    fc.property(
      fc.constantFrom(DEFAULT_SOURCE, FIXTURE_SOURCE),
      fc.array(mutation, { minLength: 1, maxLength: maxMutations }),
      (base, mutations) => {
        check(mutate(base, mutations));
      },
    ),
    { numRuns },
  );
}

function verdict(parsed: ReturnType<typeof parseRegistry>) {
  const validation = validateParsed(parsed);
  return { registry: parsed.registry, diagnostics: validation.diagnostics };
}

/** The yaml library's reading (as the careful path configures it), or undefined when it reports errors. */
function carefulData(source: string): unknown {
  const document = parseDocument(source, { version: "1.2", schema: "core", uniqueKeys: true, strict: true });
  return document.errors.length > 0 ? undefined : document.toJS();
}

/** Shapes the fast reader accepts, each with what it must read. */
const ACCEPTED: [string, string][] = [
  ["compact sequences", "a:\n- x\n- u: 1\n  w: 2\nb: 3\n"],
  [
    "nested items and pending keys",
    "s:\n  - name: a\n    deps:\n    - b\n    health:\n      path: /h\n  - name: b\nempty:\n",
  ],
  ["comments everywhere", "# top\na: 1 # one\n# between\nb: # two\n  # inside\n  c: 'x # y' # three\n"],
  ["quotes and apostrophes", "a: \"it's\"\nb: 'say \"hi\"'\nc: O'Brien's team\nd: ''\ne: \"\"\n"],
  ["flow collections", "a: []\nb: {}\nc: [x, \"y z\", 'w']\nd: { u: 1, v: true, w: null }\n"],
  ["scalar types", "a: 4007\nb: true\nc: false\nd: null\ne: 1.0.0\nf: a:b\ng: http://h:1/p?q\n"],
  ["no final newline", "a: 1\nb:\n  - x"],
];

describe("loader fast path", () => {
  test.each(ACCEPTED)("reads %s exactly as the yaml library does", (_, source) => {
    const fast = readPlainFast(source);
    expect(fast).toBeDefined();
    expect(fast).toEqual(carefulData(source) as Record<string, unknown>);
  });

  test("reads the default registry and the real-world fixture exactly as the yaml library does", () => {
    for (const source of [DEFAULT_SOURCE, FIXTURE_SOURCE]) {
      expect(readPlainFast(source)).toEqual(carefulData(source) as Record<string, unknown>);
    }
  });

  test("property: whatever the fast reader accepts, it reads as the yaml library does", () => {
    forMutatedRegistries((source) => {
      const fast = readPlainFast(source);
      if (fast !== undefined) expect(fast).toEqual(carefulData(source) as Record<string, unknown>);
    }, 300);
  }, 60_000);

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
    ["a continued list item", "a:\n  - one\n    two\n"],
    ["a multi-line flow", "a: [x,\n  y]\n"],
    ["a nested flow", "a: [x, [y]]\n"],
    ["a document marker", "---\na: 1\n"],
    ["a root sequence", "- a\n- b\n"],
    ["an indented root", "  a: 1\n"],
    ["a negative number", "a: -1\n"],
    ["a key in quotes", '"a": 1\n'],
    ["a mapping inside a flow sequence", "a: [b: 1]\n"],
    [
      "deep nesting",
      `${Array.from({ length: 20 }, (_, depth) => `${"  ".repeat(depth)}k${depth}:`).join("\n")} 1\n`,
    ],
  ])("declines %s", (_, source) => {
    expect(isPlainYaml(source)).toBe(false);
  });

  test("the same list item keys in two items are not duplicates", () => {
    expect(isPlainYaml("s:\n  - a: 1\n    b: 2\n  - a: 3\n    b: 4\n")).toBe(true);
  });

  test("property: any mutation of a real registry gets the same verdict from both paths", () => {
    forMutatedRegistries((source) => {
      expect(verdict(parseRegistry(source, "r.yaml"))).toEqual(verdict(parseCarefully(source, "r.yaml")));
    }, 150);
  }, 60_000);
});

/** Every path to a node of `data`, plus one missing child of each container. */
function pathsOf(data: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const paths: (string | number)[][] = [prefix];
  if (data === null || typeof data !== "object") return paths;
  paths.push([...prefix, Array.isArray(data) ? data.length : "x-missing"]);
  for (const [key, value] of Object.entries(data)) {
    paths.push(...pathsOf(value, [...prefix, Array.isArray(data) ? Number(key) : key]));
  }
  return paths;
}

describe("positions from the fast path", () => {
  function expectSameAnswers(source: string): number {
    const fast = locatePlain(source);
    if (!fast) return 0;
    const careful = parseCarefully(source, "r.yaml");
    let answered = 0;
    for (const path of pathsOf(readPlainFast(source))) {
      for (const which of ["key", "value"] as const) {
        const position = fast(path, which);
        if (position === undefined) continue;
        answered++;
        expect([path, which, position]).toEqual([path, which, careful.locate(path, which)]);
      }
    }
    return answered;
  }

  test("every key and value of the real registries is placed as the yaml library places it", () => {
    expect(expectSameAnswers(DEFAULT_SOURCE)).toBeGreaterThan(500);
    expect(expectSameAnswers(FIXTURE_SOURCE)).toBeGreaterThan(500);
    for (const [, source] of ACCEPTED) expectSameAnswers(source);
  });

  test("property: on any mutation the fast path reads, its positions match the careful path", () => {
    forMutatedRegistries(expectSameAnswers, 60, 3);
  }, 60_000);
});
