/**
 * The bad-input suite: every hostile or malformed registry gets its exact diagnostics from
 * `bun tasks/validate.ts`, exit 1 (findings) or 2 (I/O), never a stack trace, and sync writes nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MAX_FILE_BYTES } from "../../lib/load.ts";
import { run as runSync } from "../../tasks/sync.ts";
import { copyFixture, FIXTURES, makeTempDir, REPO, removeDir, runTask } from "../core/support.ts";

const STACK_TRACE = /\n\s+at |internal error/;

type Case = { name: string; lines: string[]; summary: string; exitCode: 0 | 1 };

const fixture = (name: string) => `fixtures/validate/${name}/registry.yaml`;

const CASES: Case[] = [
  {
    name: "malformed-yaml",
    lines: ['2:25 error yaml-syntax Missing closing "quote'],
    summary: "1 error(s), 0 warning(s)",
    exitCode: 1,
  },
  {
    name: "duplicate-keys",
    lines: [
      '5:3 error yaml-duplicate-key key "api" appears twice in this mapping',
      "9:11 error port-out-of-range port 4001 of gateway is outside its stack api (4100-4199)",
      '10:5 error yaml-duplicate-key key "port" appears twice in this mapping',
    ],
    summary: "3 error(s), 0 warning(s)",
    exitCode: 1,
  },
  {
    name: "tabs",
    lines: ["4:1 error yaml-syntax Tabs are not allowed as indentation"],
    summary: "1 error(s), 0 warning(s)",
    exitCode: 1,
  },
  {
    name: "deep",
    lines: ["38:65 error yaml-too-deep nests deeper than 32 levels"],
    summary: "1 error(s), 0 warning(s)",
    exitCode: 1,
  },
  {
    name: "hostile-strings",
    lines: [
      '5:3 error schema-value key "bad stack" must be lowercase kebab-case: a-z, 0-9 and single hyphens, starting with a letter',
      `9:11 error schema-value a'b: services[0].name must be lowercase kebab-case: a-z, 0-9 and single hyphens, starting with a letter, got "a'b"`,
      `10:12 error schema-value a'b: services[0].stack must be lowercase kebab-case: a-z, 0-9 and single hyphens, starting with a letter, got "api; rm -rf /"`,
      `13:12 error schema-value a'b: services[0].owner must be a single line without control characters, got "Team\\nNewline"`,
      `14:18 error schema-value a'b: services[0].description must be a single line without control characters, got "Line one\\u2028line two of the description"`,
      `15:12 error schema-value a'b: services[0].notes must be a single line without control characters, got "NUL \\u0000 inside"`,
      `17:14 error schema-value a'b: services[0].network must start with a letter and use only a-z, 0-9, '_' and single hyphens, got "back end"`,
      `18:12 error schema-value a'b: services[0].image must be an image reference such as redis:7, got "nginx:1 $(id)"`,
      '19:18 error schema-value a\'b: services[0].gatewayPath must be a URL path such as /api/telegram, got "/api/`id`"',
      `22:17 error schema-value a'b: services[0].healthcheck.endpoint must be a URL path starting with '/' using only RFC 3986 characters (no spaces or quotes), got "/health'; curl evil"`,
      `24:7 error schema-value a'b: key "lower case" must be an UPPER_SNAKE_CASE name`,
      `25:13 error schema-value a'b: services[0].environment.GOOD must be a single line, got "multi\\nline"`,
      `27:9 error schema-value a'b: services[0].volumes[0] must be 'volume:/path' or './repo/path:/path', got "../../etc:/etc"`,
      `29:16 error schema-value a'b: services[0].build.context must be relative to the repository root, got "/abs/path"`,
      `30:19 error schema-value a'b: services[0].build.dockerfile must not contain '..', got "../Dockerfile"`,
      `31:27 error schema-value a'b: services[0].command[2] must be a single line, got "echo\\nnext"`,
    ],
    summary: "16 error(s), 0 warning(s)",
    exitCode: 1,
  },
  {
    name: "yaml11-surprises",
    lines: [
      "8:11 error yaml-ambiguous-scalar unquoted 0755 is octal in YAML 1.1 and decimal in 1.2; write it without the leading zero",
      '10:12 error yaml-ambiguous-scalar unquoted no is a boolean in YAML 1.1; write "no" or true/false',
      '12:12 error yaml-ambiguous-scalar unquoted 22:22 is a base-60 number in YAML 1.1; quote it: "22:22"',
      '13:16 error schema-type cron: services[0].container must be true or false, got "off"',
      '13:16 error yaml-ambiguous-scalar unquoted off is a boolean in YAML 1.1; write "off" or true/false',
      '16:17 error schema-type cron: services[0].healthcheck.expected must be a number, got "2_00"',
      "16:17 error yaml-ambiguous-scalar unquoted 2_00 is a number in YAML 1.1; quote it or drop the underscores",
    ],
    summary: "7 error(s), 0 warning(s)",
    exitCode: 1,
  },
  {
    name: "port-formats",
    lines: [
      "8:11 error schema-type 0x1F91 must be written as a plain decimal integer",
      "14:11 error schema-type 1e3 must be written as a plain decimal integer",
      "20:11 error schema-type 4007.0 must be written as a plain decimal integer",
      '26:11 error schema-type quoted: services[3].port must be a number, got "4007"',
      "32:11 error schema-type +4008 must be written as a plain decimal integer",
      "38:11 error schema-value too-low: services[5].port must be between 1024 and 65535, got 80",
    ],
    summary: "6 error(s), 0 warning(s)",
    exitCode: 1,
  },
  {
    name: "reserved-names",
    lines: [
      '5:3 error name-reserved "__proto__" is a reserved name and cannot be used as a key',
      '6:3 error name-reserved "constructor" is a reserved name and cannot be used as a key',
      '8:11 error name-reserved __proto__: services[0].name "__proto__" is a reserved name; choose another, got "__proto__"',
      '14:11 error name-reserved constructor: services[1].name "constructor" is a reserved name; choose another, got "constructor"',
      '20:5 error name-reserved "__proto__" is a reserved name and cannot be used as a key',
    ],
    summary: "5 error(s), 0 warning(s)",
    exitCode: 1,
  },
  {
    name: "unknown-keys",
    lines: [
      '6:1 error schema-unknown-key unknown key "servics"; did you mean "services"?',
      '11:5 error schema-unknown-key unknown key "protcol"; did you mean "protocol"?',
      '18:7 error schema-unknown-key unknown key "expect"; did you mean "expected"?',
      '20:5 error schema-unknown-key unknown key "zzzzzz"; extensions must start with x-',
    ],
    summary: "4 error(s), 0 warning(s)",
    exitCode: 1,
  },
  {
    name: "yaml-directive",
    lines: ["1:1 warning yaml-directive %YAML 1.1 is ignored; the registry is read as YAML 1.2 core"],
    summary: "0 error(s), 1 warning(s)",
    exitCode: 0,
  },
  {
    name: "healthcheck-endpoints",
    lines: [
      `13:17 error schema-value spaces: services[0].healthcheck.endpoint must be a URL path starting with '/' using only RFC 3986 characters (no spaces or quotes), got "/health check"`,
      `21:17 error schema-value quotes: services[1].healthcheck.endpoint must be a URL path starting with '/' using only RFC 3986 characters (no spaces or quotes), got "/health\\"x"`,
      `29:17 error schema-value relative: services[2].healthcheck.endpoint must be a URL path starting with '/' using only RFC 3986 characters (no spaces or quotes), got "health"`,
      "37:17 warning health-fragment endpoint /#/status of fragment has a #fragment, which is never sent; the check requests /",
    ],
    summary: "3 error(s), 1 warning(s)",
    exitCode: 1,
  },
  {
    name: "multiline-text",
    lines: [
      '11:18 error schema-value literal: services[0].description must be a single line without control characters, got "First line of the description\\nand a seco…"',
      '19:18 error schema-value folded: services[1].description must be a single line without control characters, got "Folded text keeps a newline at the very …"',
      '22:12 error schema-value folded: services[1].notes must be a single line without control characters, got "two\\u000d\\nlines"',
    ],
    summary: "3 error(s), 0 warning(s)",
    exitCode: 1,
  },
  {
    name: "tags-and-keys",
    lines: [
      "1:16 error yaml-tag tag tag:yaml.org,2002:str is not allowed; write a plain value",
      "5:5 error yaml-non-string-key mapping keys must be strings; quote the key",
      "7:3 error yaml-non-string-key mapping keys must be strings; quote the key",
      "9:19 error yaml-tag tag !custom is not allowed; write a plain value",
    ],
    summary: "4 error(s), 0 warning(s)",
    exitCode: 1,
  },
];

/** Billion laughs: nine anchors, each list repeating the previous alias nine times. */
function aliasBombLines(): string[] {
  const lines: string[] = [];
  const anchors = "abcdefghi";
  for (let row = 5; row <= 13; row++) {
    const anchor = anchors[row - 5];
    lines.push(`${row}:9 error yaml-alias anchor &${anchor} is not allowed; repeat the value instead`);
    if (row === 5) continue;
    for (let item = 0; item < 9; item++) {
      lines.push(
        `${row}:${10 + item * 4} error yaml-alias alias *${anchors[row - 6]} is not allowed; repeat the value instead`,
      );
    }
  }
  lines.push(
    "14:11 error schema-type services must be a list, got null",
    "14:11 error yaml-alias alias *i is not allowed; repeat the value instead",
  );
  return lines;
}

CASES.push({
  name: "alias-bomb",
  lines: aliasBombLines(),
  summary: "83 error(s), 0 warning(s)",
  exitCode: 1,
});

function expectedOutput(item: Case): string {
  const path = fixture(item.name);
  return `${[...item.lines.map((line) => `${path}:${line}`), `${path}: ${item.summary}`].join("\n")}\n`;
}

describe("validate on bad input", () => {
  for (const item of CASES) {
    test(`${item.name}: exact diagnostics, exit ${item.exitCode}`, () => {
      const result = runTask("validate", ["--registry", fixture(item.name)]);
      expect(result).toEqual({ stdout: expectedOutput(item), stderr: "", exitCode: item.exitCode });
    });
  }
});

describe("sync on bad input writes nothing", () => {
  for (const item of CASES.filter((entry) => entry.exitCode === 1)) {
    test(item.name, async () => {
      const root = await copyFixture(`validate/${item.name}`);
      try {
        const report = await runSync({ root, registryPath: "registry.yaml" });
        expect(report.isValid).toBe(false);
        expect(report.files).toEqual([]);
        expect(await readdir(root, { recursive: true })).toEqual(["registry.yaml"]);
      } finally {
        await removeDir(root);
      }
    });
  }

  test("the sync task says why and exits 1", async () => {
    const root = await copyFixture("validate/malformed-yaml");
    try {
      const result = runTask("sync", ["--root", root, "--registry", "registry.yaml"]);
      expect(result).toEqual({
        stdout: "",
        stderr: [
          'registry.yaml:2:25 error yaml-syntax Missing closing "quote',
          "sync: registry.yaml has errors; nothing was written. Fix them, then run npm run ports:sync.",
          "",
        ].join("\n"),
        exitCode: 1,
      });
      expect(await readdir(root, { recursive: true })).toEqual(["registry.yaml"]);
    } finally {
      await removeDir(root);
    }
  });
});

describe("files the loader will not parse", () => {
  let root: string;
  beforeAll(async () => {
    root = await makeTempDir();
  });
  afterAll(async () => {
    await removeDir(root);
  });

  test("a file over the size cap is refused before parsing", async () => {
    const head = 'version: "1.0.0"\nlastUpdated: "2025-11-11"\nranges: {}\nservices: []\n';
    await writeFile(join(root, "huge.yaml"), `${head}${"#".repeat(MAX_FILE_BYTES - head.length)}\n`);
    const result = runTask("validate", ["--root", root, "--registry", "huge.yaml"]);
    expect(result).toEqual({
      stdout: `huge.yaml:1:1 error file-too-large is ${MAX_FILE_BYTES + 1} bytes; the cap is ${MAX_FILE_BYTES}\nhuge.yaml: 1 error(s), 0 warning(s)\n`,
      stderr: "",
      exitCode: 1,
    });
  });

  test("bytes that are not UTF-8 are reported where they are, not turned into U+FFFD", async () => {
    const text =
      'version: "1.0.0"\nlastUpdated: "2025-11-11"\nranges:\n  api: "4000-4099"\nservices: []\nx-owner: "Caf';
    await writeFile(
      join(root, "latin1.yaml"),
      Buffer.concat([Buffer.from(text), Buffer.from([0xe9]), Buffer.from(' team"\n')]),
    );
    await writeFile(join(root, "replacement.yaml"), `${text}\uFFFD team"\n`);
    expect(runTask("validate", ["--root", root, "--registry", "latin1.yaml"])).toEqual({
      stdout:
        "latin1.yaml:6:14 error file-encoding is not valid UTF-8 here; save the file as UTF-8\nlatin1.yaml: 1 error(s), 0 warning(s)\n",
      stderr: "",
      exitCode: 1,
    });
    // A real U+FFFD, written as UTF-8, is just a character.
    expect(runTask("validate", ["--root", root, "--registry", "replacement.yaml"]).exitCode).toBe(0);
  });

  test("a missing registry is an I/O error: exit 2, one line", () => {
    const result = runTask("validate", ["--root", root, "--registry", "absent.yaml"]);
    expect(result).toEqual({
      stdout: "",
      stderr: "validate: absent.yaml: cannot read the registry (no such file or directory)\n",
      exitCode: 2,
    });
  });

  test("sync --ref needs --check and a commit", () => {
    expect(runTask("sync", ["--root", REPO, "--ref", "HEAD"])).toEqual({
      stdout: "",
      stderr: "sync: --ref needs --check: sync writes only the work tree\n",
      exitCode: 2,
    });
    expect(runTask("sync", ["--root", REPO, "--check", "--ref", "no-such-ref"])).toEqual({
      stdout: "",
      stderr: `sync: --ref no-such-ref: not a commit of the repository at ${REPO}\n`,
      exitCode: 2,
    });
    expect(runTask("sync", ["--root", REPO, "--pushed"])).toEqual({
      stdout: "",
      stderr: "sync: --pushed needs --check: sync writes only the work tree\n",
      exitCode: 2,
    });
    expect(runTask("sync", ["--root", REPO, "--check", "--pushed", "--ref", "HEAD"])).toEqual({
      stdout: "",
      stderr: "sync: pass either --ref or --pushed\n",
      exitCode: 2,
    });
  });

  test("a root that does not exist is named as the problem, for every task that reads the registry", () => {
    for (const task of ["validate", "sync", "report"]) {
      expect(runTask(task, ["--root", join(root, "nowhere")])).toEqual({
        stdout: "",
        stderr: `${task}: ${join(root, "nowhere")}: the root directory does not exist (see --root)\n`,
        exitCode: 2,
      });
    }
  });

  test("a directory is an I/O error for every task", async () => {
    await mkdir(join(root, "dir.yaml"), { recursive: true });
    for (const task of ["validate", "sync", "report"]) {
      const result = runTask(task, ["--root", root, "--registry", "dir.yaml"]);
      expect(result).toEqual({ stdout: "", stderr: `${task}: dir.yaml: not a regular file\n`, exitCode: 2 });
    }
  });

  test("no bad input produces a stack trace", () => {
    const result = runTask(
      "validate",
      ["--registry", join(FIXTURES, "validate", "tabs", "registry.yaml")],
      REPO,
    );
    expect(result.stdout + result.stderr).not.toMatch(STACK_TRACE);
  });
});
