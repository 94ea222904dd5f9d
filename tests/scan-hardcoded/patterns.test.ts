// biome-ignore-all lint/suspicious/noTemplateCurlyInString: shell and compose `${VAR}` syntax is the input under test
/**
 * The pure matcher: boundaries, adversarial lines, inline markers, fingerprints, and linear time
 * on a 1 MB single-line file.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { parseRegistry } from "../../lib/load.ts";
import { GENERATED_MARKER as RENDER_MARKER } from "../../lib/render.ts";
import {
  classifyPath,
  collectAnchors,
  type FileKind,
  GENERATED_MARKER,
  isGeneratedSource,
  matchPatterns,
  readPublished,
} from "../../lib/scan.ts";
import { matchComposeDrift, matchComposeDriftPrecisely } from "../../lib/scan-compose.ts";
import { scanSource } from "../../lib/scan-findings.ts";
import { createPortIndex, DEFAULT_MIN_PORT } from "../../lib/scan-index.ts";
import { createTempRoot, REGISTRY, removeTempRoots, runScan } from "./support.ts";

afterAll(removeTempRoots);

const registry = parseRegistry(await Bun.file(REGISTRY).text(), "registry.yaml").registry;
const index = createPortIndex(registry);

function ports(text: string, kind: FileKind = "code"): [string, number][] {
  return matchPatterns(text, kind, DEFAULT_MIN_PORT).map((match) => [match.kind, match.port]);
}

describe("boundaries", () => {
  test.each([
    ["localhost:99999", []],
    ["localhost:123456", []],
    ["localhost:4007abc", []],
    ["xlocalhost:4007", []],
    ["my-localhost:4007", []],
    ["localhost: 4007", []],
    ["localhost:80", []],
    ["110.0.0.0:4007", []],
    ["1127.0.0.1:4007", []],
    ["127.0.0.10:4007", []],
    ["port === 4007", []],
    ["port => 4007", []],
    ["const report = 3000; export const transport = 4010", []],
    ["EXPORT=4010 AIRPORT=4010 SUPPORT=4010", []],
    ["PORT=${PORT}", []],
    ["PORT=${PORT:-${FALLBACK}}", []],
    ["PORT=4007.5", []],
    ["PORTS=4007", []],
    ["process.env.TIMEOUT_MS || 1500", []],
    ["mkdir -p 4007", []],
    ["api.localhost:4007", [["localhost-port", 4007]]],
    ["http://[::1]:4010/", [["ipv6-loopback-port", 4010]]],
    ["PORT=4007", [["port-assignment", 4007]]],
    ["export PORT=${PORT:-4007}", [["port-assignment", 4007]]],
    ['{ "port": 4007 }', [["port-assignment", 4007]]],
    ["const grpcPort = 4010", [["port-assignment", 4010]]],
    ["serve --port 3100", [["port-assignment", 3100]]],
    ["process.env.PORT ?? '4010'", [["fallback-port", 4010]]],
    ["docker run -p 127.0.0.1:4010:4010 x", [["published-port", 4010]]],
  ] as [string, [string, number][]][])("%p", (line, expected) => {
    expect(ports(line)).toEqual(expected);
  });

  test("compose short syntax, IP prefix, ranges, defaults, /udp and flow lists", () => {
    const text = [
      "ports:",
      '  - "4010:4010"',
      "  - 127.0.0.1:5433:5432",
      '  - "4000-4005:4000-4005"',
      "  - '${X_PORT:-4007}:4007'",
      '  - "6379:6379/udp"',
      '  - "8080"',
      '  - "127.0.0.1::80"',
      "other: [4020:4020]",
      'flow: { ports: ["3100:80"] }',
      'ports: ["3101:80", "3102:80"]',
    ].join("\n");
    expect(ports(text, "yaml")).toEqual([
      ["published-port", 4010],
      ["published-port", 5433],
      ["published-port", 4000],
      ["published-port", 4007],
      ["published-port", 6379],
      ["published-port", 3101],
      ["published-port", 3102],
    ]);
  });

  test("CRLF line endings read the same", () => {
    const text = 'services:\r\n  a:\r\n    ports:\r\n      - "4010:4010"\r\n      - 4007:4007\r\n';
    expect(ports(text, "yaml")).toEqual([
      ["published-port", 4010],
      ["published-port", 4007],
    ]);
    const result = scanSource({
      file: "a.sh",
      text: "x\r\ncurl localhost:4007 # ports:allow\r\n",
      fileKind: "shell",
      index,
      minPort: DEFAULT_MIN_PORT,
    });
    expect(result.findings.map((finding) => [finding.rule, finding.line, finding.snippet])).toEqual([
      ["localhost-port", 2, "curl localhost:4007 # ports:allow"],
      ["allow-missing-reason", 2, "curl localhost:4007 # ports:allow"],
    ]);
  });

  test("readPublished reads only the host side", () => {
    const read = (mapping: string) => readPublished(mapping, 0, mapping.length)?.port;
    expect([
      read("4010:80"),
      read("[::1]:4010:80"),
      read("80"),
      read("${A}:80"),
      read("${A:-4011}:80"),
    ]).toEqual([4010, 4010, undefined, undefined, 4011]);
  });
});

describe("adversarial lines", () => {
  const hostile = [
    "localhost:".repeat(20_000),
    `${"PORT".padEnd(40, " ")}`.repeat(5_000),
    "${".repeat(50_000),
    "-p ".repeat(50_000),
    "env.".repeat(50_000),
    "a".repeat(200_000),
    "9".repeat(200_000),
    `"port": ${"9".repeat(100_000)}`,
    `ports:\n${'  - "'.repeat(20_000)}`,
    "\u0000\u2028\uFEFF localhost:4007 \u202E",
  ];
  test.each(hostile.map((text, position) => [position, text]))(
    "hostile input %p is matched without throwing",
    (_, text) => {
      for (const kind of ["code", "yaml", "shell", "json", "env", "dockerfile"] as FileKind[]) {
        const result = scanSource({
          file: "x",
          text: text as string,
          fileKind: kind,
          index,
          minPort: DEFAULT_MIN_PORT,
        });
        for (const finding of result.findings) {
          expect(finding.port).toBeGreaterThanOrEqual(1024);
          expect(finding.snippet.length).toBeLessThanOrEqual(202);
        }
      }
    },
  );

  test("a 1 MB single-line file scans in linear time", () => {
    const unit = 'const a = "localhost:"; PORT  x env.Y -p ${ [::1] 127.0.0.1:x aaaaaaaaaaaaaa port: ports: ';
    const build = (bytes: number) =>
      `${unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes)} localhost:4007`;
    const timeOf = (text: string) => {
      let best = Number.POSITIVE_INFINITY;
      for (let round = 0; round < 5; round++) {
        const start = performance.now();
        const result = scanSource({
          file: "big.ts",
          text,
          fileKind: "code",
          index,
          minPort: DEFAULT_MIN_PORT,
        });
        best = Math.min(best, performance.now() - start);
        expect(result.findings.map((finding) => finding.port)).toEqual([4007]);
      }
      return best;
    };
    const quarter = timeOf(build(256 * 1024));
    const full = timeOf(build(1024 * 1024));
    // Linear growth is 4x; a quadratic matcher would be 16x. Allow noise from a shared machine.
    expect(full / Math.max(quarter, 1)).toBeLessThan(10);
    expect(full).toBeLessThan(2000);
  });

  test("the task scans a 1 MB single-line file and reports the port at its column", () => {
    const root = createTempRoot();
    const filler = "x".repeat(1024 * 1024);
    writeFileSync(join(root, "bundle.js"), `${filler}"http://localhost:4010"`);
    const run = runScan(["--root", root, "--registry", REGISTRY], root);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe("");
    expect(run.stdout.split("\n")[0]).toBe(
      `bundle.js:1:${filler.length + 19} localhost-port localhost:4010 hardcodes the port of telegram-gateway-api; use process.env.TELEGRAM_GATEWAY_API_URL instead`,
    );
  });
});

describe("inline markers", () => {
  const scan = (text: string) =>
    scanSource({ file: "a.ts", text, fileKind: "code", index, minPort: DEFAULT_MIN_PORT });

  test("a marker with a reason on the line or the comment line above allows it", () => {
    const result = scan(
      [
        'const a = "localhost:4007"; // ports:allow the docs show this URL',
        "# port-governance:ignore smoke test only",
        'const b = "localhost:4010";',
        "/* ports:allow generated by a third-party tool */",
        'const c = "localhost:3400";',
      ].join("\n"),
    );
    expect({ findings: result.findings, suppressed: result.suppressed }).toEqual({
      findings: [],
      suppressed: 3,
    });
  });

  test("a marker on a code line above does not reach the next line", () => {
    const result = scan('const a = 1; // ports:allow for a only\nconst b = "localhost:4010";');
    expect(result.findings.map((finding) => finding.rule)).toEqual(["localhost-port"]);
  });

  test.each(["ports:allow", "ports:allow  ", "ports:allow: 12", "port-governance:ignore -"])(
    "%p without a real reason is a finding and allows nothing",
    (marker) => {
      const result = scan(`const a = "localhost:4007"; // ${marker}`);
      expect(result.findings.map((finding) => finding.rule)).toEqual([
        "localhost-port",
        "allow-missing-reason",
      ]);
      expect(result.suppressed).toBe(0);
    },
  );
});

describe("fingerprints", () => {
  const fingerprints = (text: string) =>
    scanSource({ file: "a.sh", text, fileKind: "shell", index, minPort: DEFAULT_MIN_PORT }).findings.map(
      (finding) => finding.fingerprint,
    );

  test("survive unrelated line shifts and whitespace changes, not content changes", () => {
    const before = fingerprints("curl localhost:4007\n");
    expect(fingerprints("# added\n\n\ncurl   localhost:4007\n")).toEqual(before);
    expect(fingerprints("curl localhost:4010\n")).not.toEqual(before);
  });

  test("identical lines get distinct fingerprints by occurrence", () => {
    const pair = fingerprints("curl localhost:4007\ncurl localhost:4007\n");
    expect(pair).toHaveLength(2);
    expect(pair[0]).not.toBe(pair[1]);
    expect(fingerprints("echo\ncurl localhost:4007\necho\ncurl localhost:4007\n")).toEqual(pair);
  });
});

describe("files and compose", () => {
  test("file kinds", () => {
    expect(
      [
        "a.ts",
        "b.MJS",
        "c.yaml",
        "d.sh",
        "e.json",
        ".env",
        ".env.local",
        "prod.env",
        "Dockerfile",
        "api.Dockerfile",
        "README.md",
        "Makefile",
      ].map(classifyPath),
    ).toEqual([
      "code",
      "code",
      "yaml",
      "shell",
      "json",
      "env",
      "env",
      "env",
      "dockerfile",
      "dockerfile",
      undefined,
      undefined,
    ]);
  });

  test("the generated marker is the one sync writes", () => {
    expect(GENERATED_MARKER).toBe(RENDER_MARKER);
  });

  test("the generated header exempts a file only near its top", () => {
    expect(
      isGeneratedSource("# Generated by port-governance from config/ports/registry.yaml.\nPORT=4007"),
    ).toBe(true);
    expect(isGeneratedSource(`${"\n".repeat(2000)}# Generated by port-governance from x`)).toBe(false);
  });

  test("the fast compose reader agrees with the position-keeping parser", () => {
    const text = [
      "services:",
      "  telegram-gateway-api:",
      "    ports:",
      '      - "4011:4010"',
      "  grafana:",
      "    ports:",
      "      - target: 3000",
      "        published: 3000",
      "  redis:",
      '    ports: ["6380:6379"]',
    ].join("\n");
    const fast = matchComposeDrift(text, index);
    expect(fast.map((match) => [match.rule, match.port])).toEqual([
      ["compose-port-mismatch", 4011],
      ["compose-port-unknown", 3000],
      ["compose-port-mismatch", 6380],
    ]);
    expect(fast).toEqual(matchComposeDriftPrecisely(text, index));
  });

  test("anchors and merge keys fall back to the position-keeping parser", () => {
    const text = [
      "x-ports: &ports",
      '  - "4011:4010"',
      "services:",
      "  telegram-gateway-api:",
      "    ports: *ports",
    ].join("\n");
    expect(matchComposeDrift(text, index)).toEqual(matchComposeDriftPrecisely(text, index));
  });
});

describe("anchors", () => {
  /** The specification: one combined pattern, scanned left to right. */
  const COMBINED =
    /localhost(?=:\d)|127\.0\.0\.1(?=:\d)|0\.0\.0\.0(?=:\d)|\[::1?\](?=:\d)|host\.docker\.internal(?=:\d)|env(?=(?:\.|\[["'])[A-Za-z0-9_]{0,64}(?:PORT|[Pp]ort))|(?:port|Port|PORT)(?=["'\]]?[ \t]{0,16}(?:[:=]|\|\||\?\?)|[ \t]+\d)|(?:--publish|-p)(?=[ =]["']?\d)/g;
  const FRAGMENTS = [
    "localhost",
    "127.0.0.1",
    "0.0.0.0",
    "[::]",
    "[::1]",
    "host.docker.internal",
    ":",
    "4007",
    "1",
    "0",
    "port",
    "Port",
    "PORT",
    "API_",
    "env",
    ".",
    '["',
    "-p",
    "--publish",
    "-",
    " ",
    "\t",
    "=",
    "||",
    "??",
    '"',
    "'",
    "]",
    "x",
    "\n",
  ];

  test("property: the split passes find exactly the anchors of one combined pattern", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }), (parts) => {
        const text = parts.join("");
        const expected = [...text.matchAll(COMBINED)].map((found) => ({
          start: found.index,
          anchor: found[0],
        }));
        expect(collectAnchors(text)).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });
});
