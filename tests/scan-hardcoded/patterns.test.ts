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
  type DriftMatch,
  type FileKind,
  GENERATED_MARKER,
  isGeneratedSource,
  isPortName,
  matchPatterns,
  readPublished,
} from "../../lib/scan.ts";
import { matchComposeDrift, matchComposeDriftPrecisely } from "../../lib/scan-compose.ts";
import { DEFAULT_MIN_PORT } from "../../lib/scan-config.ts";
import { findMarkers, scanSource } from "../../lib/scan-findings.ts";
import { createPortIndex } from "../../lib/scan-index.ts";
import { createTempRoot, REGISTRY, removeTempRoots, runScan } from "./support.ts";

afterAll(removeTempRoots);

const registry = parseRegistry(await Bun.file(REGISTRY).text(), "registry.yaml").registry;
const index = createPortIndex(registry);

/** Each drift match as [rule, port, the text it points at]. */
function spotsOf(text: string, drift: readonly DriftMatch[]): [string, number, string][] {
  return drift.map((match) => [
    match.rule,
    match.port,
    text.slice(match.offset, match.offset + match.length),
  ]);
}

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

  test("1 MB of markers, port-name segments or unclosed compose lists stays linear too", () => {
    const timeOf = (build: (bytes: number) => string, run: (text: string) => unknown) => {
      const measure = (text: string) => {
        let best = Number.POSITIVE_INFINITY;
        for (let round = 0; round < 3; round++) {
          const start = performance.now();
          run(text);
          best = Math.min(best, performance.now() - start);
        }
        return best;
      };
      return measure(build(1024 * 1024)) / Math.max(measure(build(256 * 1024)), 1);
    };
    const line = (unit: string) => (bytes: number) =>
      unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
    expect(timeOf(line("ports:allow "), findMarkers)).toBeLessThan(10);
    expect(timeOf(line("PORT_"), (text) => matchPatterns(text, "code", DEFAULT_MIN_PORT))).toBeLessThan(10);
    expect(timeOf(line("env.PORT_"), (text) => matchPatterns(text, "code", DEFAULT_MIN_PORT))).toBeLessThan(
      10,
    );
    // Compose shapes: one unclosed flow list on one line or on many, and service lines without a colon.
    const yaml = (text: string) => matchPatterns(text, "yaml", DEFAULT_MIN_PORT);
    const after = (head: string, unit: string) => (bytes: number) => head + line(unit)(bytes);
    expect(timeOf(after("ports: [", ","), yaml)).toBeLessThan(10);
    expect(timeOf(after("ports: [", "x, "), yaml)).toBeLessThan(10);
    expect(timeOf(after("# ports: x\nservices:\n", "  a\n"), yaml)).toBeLessThan(10);
    expect(timeOf(after("services:\n  a:\n    ports: [\n", '      "1:1",\n'), yaml)).toBeLessThan(10);
  });

  test("the task scans a 1 MB single-line file and reports the port at its column", () => {
    const root = createTempRoot();
    const filler = "x".repeat(1024 * 1024);
    writeFileSync(join(root, "bundle.js"), `${filler}"http://localhost:4010"`);
    const run = runScan(["--root", root, "--registry", REGISTRY], root);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toBe("");
    expect(run.stdout.split("\n")[0]).toBe(
      `bundle.js:1:${filler.length + 19} localhost-port localhost:4010 hardcodes the port of telegram-gateway-api; use process.env.TELEGRAM_GATEWAY_API_URL instead (from the host: localhost and process.env.TELEGRAM_GATEWAY_API_PORT)`,
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

  test("a longer word that starts with a marker is not a marker", () => {
    const result = scan(
      ["// ports:allowlist is the name of a setting", 'const a = "localhost:4007";'].join("\n"),
    );
    expect([result.suppressed, result.findings.map((finding) => [finding.line, finding.rule])]).toEqual([
      0,
      [[2, "localhost-port"]],
    ]);
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
        ".envrc",
        ".envrc.local",
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
      "shell",
      "shell",
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
    const drift = matchComposeDrift(text, index);
    expect(drift).toEqual(matchComposeDriftPrecisely(text, index));
    // The alias brings the list in, so the finding points at the alias in the service's own block.
    expect(spotsOf(text, drift)).toEqual([["compose-port-mismatch", 4011, "*ports"]]);
  });

  test("a ${VAR} host port still drifts: another service's variable, or another container port", () => {
    const text = [
      "services:",
      "  tp-capital-api:",
      "    ports:",
      '      - "${TP_CAPITAL_API_PORT:?run npm run ports:sync}:80"',
      "  workspace-api:",
      "    ports:",
      "      - target: 3500",
      "        published: ${WORKSPACE_API_PORT}",
      "  dashboard:",
      "    ports:",
      '      - "${WORKSPACE_API_PORT}:3100"',
      "  documentation-api:",
      "    ports:",
      '      - "${DOCUMENTATION_API_PORT:?set}:3402"',
      "  not-registered:",
      "    ports:",
      '      - "${ANYTHING}:80"',
    ].join("\n");
    const drift = matchComposeDrift(text, index);
    expect(spotsOf(text, drift)).toEqual([
      ["compose-port-mismatch", 80, "80"],
      ["compose-port-mismatch", 3500, "3500"],
      ["compose-port-mismatch", 3400, "${WORKSPACE_API_PORT"],
    ]);
    expect(drift[2]?.message).toBe(
      'service dashboard publishes ${WORKSPACE_API_PORT}, the port of workspace-api; use "${DASHBOARD_PORT}:3100"',
    );
  });

  test("a second port beside the registered one is unknown, not a mismatch that would repeat the first", async () => {
    const literal = [
      "services:",
      "  rabbitmq:",
      "    ports:",
      '      - "5672:5672"',
      '      - "15672:15672"',
    ].join("\n");
    const drift = matchComposeDrift(literal, index);
    expect(spotsOf(literal, drift)).toEqual([["compose-port-unknown", 15672, "15672"]]);
    expect(drift[0]?.message).toBe(
      'service rabbitmq publishes 15672 ("15672:15672") besides its registered port 5672, and the registry does not know it; record it as an entry without a container named rabbitmq-<purpose> (npm run ports:new -- --name rabbitmq-<purpose> --no-container), so no other service is given it',
    );
    expect(drift[0]?.replacement).toBeUndefined();
    const variables = [
      "services:",
      "  rabbitmq:",
      "    ports:",
      '      - "${RABBITMQ_PORT}:5672"',
      '      - "${RABBITMQ_MGMT_PORT:-15672}:15672"',
      '      - "${REDIS_PORT}:6379"',
    ].join("\n");
    // Another service's variable beside the registered port is a collision, not a second port.
    expect(spotsOf(variables, matchComposeDrift(variables, index))).toEqual([
      ["compose-port-unknown", 15672, "15672"],
      ["compose-port-mismatch", 6379, "${REDIS_PORT"],
    ]);
    const collision = [
      "services:",
      "  redis:",
      "    ports:",
      '      - "${REDIS_PORT}:6379"',
      '      - "3400:8001"',
    ].join("\n");
    const collided = matchComposeDrift(collision, index);
    expect(spotsOf(collision, collided)).toEqual([["compose-port-mismatch", 3400, "3400"]]);
    expect(collided[0]?.message).toBe(
      'service redis publishes 3400 ("3400:8001"), the port of workspace-api, besides its registered port 6379; remove that entry, or publish it from workspace-api',
    );
    // Registered as advised (an entry without a container), the second port is accepted.
    const source = `${await Bun.file(REGISTRY).text()}
  - name: rabbitmq-management
    stack: messaging
    port: 5680
    protocol: http
    owner: Data Platform
    description: Management UI of the RabbitMQ container
`;
    const withSecond = createPortIndex(parseRegistry(source, "registry.yaml").registry);
    const second = [
      "services:",
      "  rabbitmq:",
      "    ports:",
      '      - "5672:5672"',
      '      - "5680:15672"',
    ].join("\n");
    expect(matchComposeDrift(second, withSecond)).toEqual([]);
    // Also alone in an override file, and beside a registered variable with a wrong default (one finding).
    const override = ["services:", "  rabbitmq:", "    ports:", '      - "5680:15672"'].join("\n");
    expect(matchComposeDrift(override, withSecond)).toEqual([]);
    const defaulted = [
      "services:",
      "  rabbitmq:",
      "    ports:",
      '      - "${RABBITMQ_PORT:-5999}:5672"',
      '      - "5680:15672"',
    ].join("\n");
    expect(spotsOf(defaulted, matchComposeDrift(defaulted, withSecond))).toEqual([
      ["compose-port-mismatch", 5999, "5999"],
    ]);
    // Another service's second port is not this one's.
    const foreign = [
      "services:",
      "  redis:",
      "    ports:",
      '      - "${REDIS_PORT}:6379"',
      '      - "5680:15672"',
    ].join("\n");
    expect(spotsOf(foreign, matchComposeDrift(foreign, withSecond))).toEqual([
      ["compose-port-mismatch", 5680, "5680"],
    ]);
    // Without the registered port among them, a different port is still a mismatch.
    const moved = ["services:", "  rabbitmq:", "    ports:", '      - "15672:15672"'].join("\n");
    expect(spotsOf(moved, matchComposeDrift(moved, index))).toEqual([
      ["compose-port-mismatch", 15672, "15672"],
    ]);
  });

  test("a sidecar's port published by the service whose network it joins (network_mode) is where it belongs", () => {
    const text = [
      "services:",
      "  redis:",
      "    ports:",
      '      - "${REDIS_PORT}:6379"',
      '      - "3400:3400"',
      "  workspace-api:",
      '    network_mode: "service:redis"',
    ].join("\n");
    expect(matchComposeDrift(text, index)).toEqual([]);
    expect(matchComposeDriftPrecisely(text, index)).toEqual([]);
    const detached = text.replace('    network_mode: "service:redis"', "    image: x");
    expect(spotsOf(detached, matchComposeDrift(detached, index))).toEqual([
      ["compose-port-mismatch", 3400, "3400"],
    ]);
  });

  test("anchored lists and flow lists over several lines are read for patterns too", () => {
    const text = [
      "services:",
      "  workspace-api:",
      "    ports: &wsports",
      '      - "3400:3400"',
      "  tp-capital-api:",
      "    ports: [",
      '      "3401:3401",',
      '      "9000:80"',
      "    ]",
      "  dashboard:",
      "    ports: *wsports",
    ].join("\n");
    expect(ports(text, "yaml")).toEqual([
      ["published-port", 3400],
      ["published-port", 3401],
      ["published-port", 9000],
    ]);
    const drift = matchComposeDrift(text, index);
    expect(spotsOf(text, drift)).toEqual([
      // tp-capital-api publishes its registered 3401 too: 9000 is a second, unknown port.
      ["compose-port-unknown", 9000, "9000"],
      ["compose-port-mismatch", 3400, "*wsports"],
    ]);
  });
});

describe("patterns of everyday files", () => {
  test.each([
    ["yaml", "      API_URL: http://localhost:${API_PORT:-3004}\n", [["port-assignment", 3004]]],
    ["yaml", '    command: ["node", "--port", "${API_PORT:-3005}"]\n', [["port-assignment", 3005]]],
    ["yaml", "      test: curl -f http://localhost:${PORT:-3006}/health\n", [["port-assignment", 3006]]],
    ["shell", "echo ${API_PORT:-8094}\n", [["port-assignment", 8094]]],
    // In code, ${...} is a template literal: ${basePort-1000} is a subtraction.
    ["code", "const url = `http://localhost:${basePort-1000}`;\n", []],
    ["shell", ': "${PORT:=3000}"\n', [["port-assignment", 3000]]],
    ["shell", "PORT=${PORT:-3000} node server.js\n", [["port-assignment", 3000]]],
    ["shell", 'docker run -p "${API_PORT:-8093}:80" image\n', [["published-port", 8093]]],
    ["shell", "docker run -p8092:80 image\n", [["published-port", 8092]]],
    ["code", "const port = parseInt(process.env.PORT, 10) || 3003;\n", [["fallback-port", 3003]]],
    ["dockerfile", "ENV PORT 8100\n", [["port-assignment", 8100]]],
    ["dockerfile", "  env API_PORT 8101\n", [["port-assignment", 8101]]],
    // Not ports: other defaults, bounds, viewport sizes, dates, ssh and mysql flags.
    ["dockerfile", "RUN echo PORT 8100\n", []],
    ["shell", "echo ${TIMEOUT:-3000}\n", []],
    [
      "code",
      "const viewPort = 1920;\nconst MAX_PORT = 65535;\nconst maxPort = 9999;\nconst MIN_PORT = 1024;\n",
      [],
    ],
    ["code", "const limit = process.env.MAX_PORT || 65535;\n", []],
    ["yaml", "ports:\n  - 8080:80\nrelease:\n  published: 2024-01-05\n", [["published-port", 8080]]],
    ["yaml", "post:\n  published: 2024-01-05\n", []],
    ["shell", "ssh -p 2222 host\nmysql -p3306 db\n", []],
    // Settings about ports are not ports; ports with a qualifier after PORT are.
    ["code", "const t = process.env.PORT_TIMEOUT_MS || 5000;\n", []],
    ["code", "const d = Number(process.env.REDIS_PORT_RETRY_DELAY ?? 3000);\n", []],
    ["code", 'const i = process.env["HEALTH_PORT_CHECK_INTERVAL"] || 10000;\n', []],
    ["shell", "sleep ${PORT_WAIT_SECONDS:-3000}\ncurl -m ${HEALTH_PORT_TIMEOUT:-2000} x\n", []],
    ["code", "const healthPortCheckInterval = 5000;\nconst portTimeoutMs = 3000;\n", []],
    [
      "code",
      "const a = env.PORT_OFFSET ?? 10000;\nconst b = env.PORT_GRACE_PERIOD || 3000;\nconst c = env.PORT_TIMEOUTMS || 3000;\n",
      [],
    ],
    [
      "env",
      "PORT_BACKLOG=2048\nPORT_POOL_SIZE=4000\nPORT_SECS=3000\nPORT_UPPER_BOUND=4099\nport_id=4010\n",
      [],
    ],
    [
      "env",
      "PORT_FROM_HOST=8080\nDB_PORT_TO_EXPOSE=5432\n",
      [
        ["port-assignment", 8080],
        ["port-assignment", 5432],
      ],
    ],
    [
      "env",
      "PORT_HEALTH_CHECK=4014\nPORT_SEC=8443\n",
      [
        ["port-assignment", 4014],
        ["port-assignment", 8443],
      ],
    ],
    [
      "shell",
      "exec api -port 4015\nexec api --server.port 4016\n",
      [
        ["port-assignment", 4015],
        ["port-assignment", 4016],
      ],
    ],
    ["yaml", '    command: [ "--port" , "4017" ]\n', [["port-assignment", 4017]]],
    [
      "env",
      "PORT_HTTP=4010\nPORT_GRPC=4007\nAPI_PORT_ADMIN=4011\n",
      [
        ["port-assignment", 4010],
        ["port-assignment", 4007],
        ["port-assignment", 4011],
      ],
    ],
    ["code", "const ports = { PORT_HTTP: 4012 };\n", [["port-assignment", 4012]]],
    ["dockerfile", "ENV PORT_HTTP 4013\n", [["port-assignment", 4013]]],
    // Servers and flags: .listen(N) in code, --X-port flags, exec-form lists.
    [
      "code",
      "app.listen(3100);\nserver.listen( 3101, () => {});\nreq.listen(x);\n",
      [
        ["port-assignment", 3100],
        ["port-assignment", 3101],
      ],
    ],
    ["yaml", '    command: ["node", "--port", "4010"]\n', [["port-assignment", 4010]]],
    ["dockerfile", 'CMD ["serve", "--http-port", "4011"]\n', [["port-assignment", 4011]]],
    [
      "shell",
      "exec api --metrics-port 9464 --port=4012\n",
      [
        ["port-assignment", 9464],
        ["port-assignment", 4012],
      ],
    ],
    ["shell", "echo listen(3000)\n", []],
    // Keys that end in port without being port names, next to ones that are.
    ["yaml", "report: 8080\nsupport: 8081\nREPORT: 8082\nAPIPort: 8083\n", []],
    [
      "code",
      "const httpPort = 8084;\nconst api_port = 8085;\nconst web2Port = 8086;\nconst opts = { port: 8087 };\n",
      [
        ["port-assignment", 8084],
        ["port-assignment", 8085],
        ["port-assignment", 8086],
        ["port-assignment", 8087],
      ],
    ],
  ] as [FileKind, string, [string, number][]][])("%s %j", (kind, text, expected) => {
    expect(ports(text, kind)).toEqual(expected);
  });
});

describe("anchors", () => {
  const BASE = String.raw`localhost(?=:\d)|127\.0\.0\.1(?=:\d)|0\.0\.0\.0(?=:\d)|\[::1?\](?=:\d)|host\.docker\.internal(?=:\d)|env(?=(?:\.|\[["'])(?:(?:[A-Za-z0-9_]{0,123}_)?(?:PORT|port)(?![A-Za-z0-9])|[A-Za-z0-9_]{0,123}[a-z0-9]Port(?![a-z0-9])|Port(?![A-Za-z0-9_])))|(?<![A-Za-z0-9])(?:port|PORT)(?=(?:_[A-Za-z0-9]{1,32}){0,4}(?:["'\]]?[ \t]{0,16}(?:[:=]|\|\||\?\?)|[ \t]+\d|["'][ \t]{0,16},[ \t]{0,16}["']\d))|(?<![A-Z])Port(?=["'\]]?[ \t]{0,16}(?:[:=]|\|\||\?\?)|[ \t]+\d)|(?:--publish|-p)(?=[ =]?["']?(?:\d|\$\{[A-Za-z0-9_]{1,64}:?-\d))`;
  const DEFAULT = String.raw`\$\{(?=[A-Za-z0-9_]{1,64}:?[-=]\d)`;
  const LISTEN = String.raw`\.listen\((?=[ \t]{0,16}\d)`;
  /** The specification for each file: one combined pattern, scanned left to right. */
  const combined = (withDefaults: boolean, withListen: boolean) =>
    new RegExp([BASE, ...(withDefaults ? [DEFAULT] : []), ...(withListen ? [LISTEN] : [])].join("|"), "g");
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
    ",",
    "_HTTP",
    "_",
    "im",
    "RE",
    "http",
    "9",
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
    "${",
    ":-",
    "}",
    ".listen(",
    "(",
  ];

  test("property: the split passes find exactly the anchors of one combined pattern", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }),
        fc.boolean(),
        fc.boolean(),
        (parts, withDefaults, withListen) => {
          const text = parts.join("");
          const expected = [...text.matchAll(combined(withDefaults, withListen))].map((found) => ({
            start: found.index,
            anchor: found[0],
          }));
          expect(collectAnchors(text, withDefaults, withListen)).toEqual(expected);
        },
      ),
      { numRuns: 3000 },
    );
  });

  test("property: an env fallback is anchored whenever its name is a port name", () => {
    const pieces = [
      "PORT",
      "port",
      "Port",
      "_",
      "API",
      "api",
      "x",
      "X",
      "RE",
      "im",
      "9",
      "HTTP",
      "Timeout",
      "MAX",
      // Names past 64 characters, with a port-like word early and the port late.
      "SUPPORT",
      "A".repeat(30),
      `_${"B".repeat(30)}`,
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 8 }), (parts) => {
        // matchEnvReference reads at most 128 characters of a name.
        const name = parts.join("").slice(0, 128);
        const text = `const a = process.env.${name} || 4010;\nconst b = env["${name}"] ?? 4011;\n`;
        const envAnchors = collectAnchors(text, false, true).filter(({ anchor }) => anchor === "env");
        if (isPortName(name)) {
          expect(envAnchors).toHaveLength(2);
          expect(ports(text)).toEqual([
            ["fallback-port", 4010],
            ["fallback-port", 4011],
          ]);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe("advice", () => {
  const advise = (text: string, fileKind: FileKind = "yaml") =>
    scanSource({ file: "x", text, fileKind, index, minPort: DEFAULT_MIN_PORT }).findings.map((finding) => [
      finding.rule,
      finding.service ?? null,
      finding.replacement ?? null,
      finding.message,
    ]);

  test("a container port names every service that listens on it, and never offers a host-port variable", () => {
    expect(advise("    POSTGRES_PORT: 5432\n")).toEqual([
      [
        "port-assignment",
        null,
        null,
        "POSTGRES_PORT: 5432 hardcodes 5432, the container port of telegram-timescale and timescaledb; to reach one of them use its _URL variable from .env.shared, or, where it is that container's own listen port, keep it with a ports:allow <reason> marker",
      ],
    ]);
  });

  test("a container port of one service points at its URL and says where the host reaches it", async () => {
    const only = createPortIndex(
      parseRegistry(
        (await Bun.file(REGISTRY).text()).replace("containerPort: 5432\n", "containerPort: 5434\n"),
        "registry.yaml",
      ).registry,
    );
    const findings = scanSource({
      file: "x",
      text: "DB_PORT=5434\n",
      fileKind: "env",
      index: only,
      minPort: DEFAULT_MIN_PORT,
    }).findings;
    expect(findings.map((finding) => [finding.service, finding.replacement, finding.message])).toEqual([
      [
        "telegram-timescale",
        "${TELEGRAM_TIMESCALE_URL}",
        "DB_PORT=5434 hardcodes the container port of telegram-timescale, which only its own network reaches (the host uses ${TELEGRAM_TIMESCALE_PORT}); to reach it use ${TELEGRAM_TIMESCALE_URL}, or, where it is that container's own listen port, keep it with a ports:allow <reason> marker",
      ],
    ]);
  });

  test("host.docker.internal on a native service keeps the host and takes the port variable (its URL says localhost)", async () => {
    // documentation-api-legacy, no longer deprecated: a native service like any other.
    const source = (await Bun.file(REGISTRY).text()).replace(
      "    deprecated: true\n    replacement: documentation-api\n",
      "",
    );
    const native = createPortIndex(parseRegistry(source, "registry.yaml").registry);
    const advise = (text: string, fileKind: FileKind) =>
      scanSource({ file: "x", text, fileKind, index: native, minPort: DEFAULT_MIN_PORT }).findings.map(
        (finding) => [finding.rule, finding.service ?? null, finding.replacement ?? null, finding.message],
      );
    const findings = (text: string, fileKind: FileKind) =>
      advise(text, fileKind).map(([rule, service, replacement]) => [rule, service, replacement]);
    expect(findings('const a = "http://host.docker.internal:3403/search";\n', "code")).toEqual([
      [
        "docker-host-port",
        "documentation-api-legacy",
        "host.docker.internal:${process.env.DOCUMENTATION_API_LEGACY_PORT}",
      ],
    ]);
    expect(findings("LEGACY_URL=http://host.docker.internal:3403\n", "env")).toEqual([
      [
        "docker-host-port",
        "documentation-api-legacy",
        "host.docker.internal:${DOCUMENTATION_API_LEGACY_PORT}",
      ],
    ]);
    expect(advise('const a = "http://host.docker.internal:3403";\n', "code")[0]?.[3]).toBe(
      "host.docker.internal:3403 hardcodes the port of documentation-api-legacy, which runs on the host; keep host.docker.internal and take the port from .env.shared: host.docker.internal:${process.env.DOCUMENTATION_API_LEGACY_PORT} (its URL variable says localhost, which inside a container is the container itself)",
    );
    // A container reached through the host is better reached on its network, by its URL.
    expect(findings('const b = "http://host.docker.internal:4010";\n', "code")).toEqual([
      ["docker-host-port", "telegram-gateway-api", "process.env.TELEGRAM_GATEWAY_API_URL"],
    ]);
  });

  test("a service with exposure: internal is never offered the host's localhost and port", async () => {
    const source = (await Bun.file(REGISTRY).text()).replace(
      "    image: redis:7.4-alpine\n\n  # Databases",
      "    image: redis:7.4-alpine\n    exposure: internal\n\n  # Databases",
    );
    const internal = createPortIndex(parseRegistry(source, "registry.yaml").registry);
    const messages = (text: string, fileKind: FileKind) =>
      scanSource({ file: "x", text, fileKind, index: internal, minPort: DEFAULT_MIN_PORT }).findings.map(
        (finding) => finding.message,
      );
    expect(messages('const r = "redis://localhost:4079";\n', "code")).toEqual([
      "localhost:4079 hardcodes the port of telegram-redis-master; use process.env.TELEGRAM_REDIS_MASTER_URL instead (telegram-redis-master is not published, so nothing on the host reaches it)",
    ]);
  });

  test("advice a file can follow: no self-reference in env files, plain YAML filled where rendered, shell in npm scripts", () => {
    const advice = (file: string, text: string, fileKind: FileKind) =>
      scanSource({ file, text, fileKind, index, minPort: DEFAULT_MIN_PORT }).findings.map((finding) => [
        finding.replacement ?? null,
        finding.message,
      ]);
    const env = [
      "REDIS_PORT=6379",
      "export TIMESCALEDB_PORT=5433 # the main database",
      "REDIS_URL=redis://localhost:6379",
      "",
    ].join("\n");
    expect(advice(".env.example", env, "env")).toEqual([
      [
        null,
        "REDIS_PORT=6379 redefines REDIS_PORT, which .env.shared already holds; drop this line and load .env.shared instead",
      ],
      [
        null,
        "TIMESCALEDB_PORT=5433 redefines TIMESCALEDB_PORT, which .env.shared already holds; drop this line and load .env.shared instead",
      ],
      [
        null,
        "localhost:6379 redefines REDIS_URL: inside a container drop this line and load .env.shared; on the host keep localhost and take the port, ${REDIS_PORT} (.env.shared's REDIS_URL names the Docker network)",
      ],
    ]);
    // A variable set for one command keeps the command; another key keeps the usual advice.
    expect(advice("run.sh", "REDIS_PORT=6379 node server.js\n", "shell")).toEqual([
      [
        null,
        "REDIS_PORT=6379 sets REDIS_PORT for one command; load .env.shared before it instead, which holds REDIS_PORT",
      ],
    ]);
    expect(advice(".env.example", "CACHE_PORT=6379\n", "env").map(([replacement]) => replacement)).toEqual([
      "${REDIS_PORT}",
    ]);
    // A Helm values file reads no variables; a compose file by name, or a file with ${NAME}, does.
    expect(advice("charts/api/values.yaml", "redis:\n  port: 6379\n", "yaml")).toEqual([
      [
        null,
        "port: 6379: port 6379 belongs to redis; this file reads no variables, so fill in REDIS_PORT from .env.shared where it is rendered (helm --set, envsubst), or keep the literal with a ports:allow <reason> marker",
      ],
    ]);
    const environment = "services:\n  api:\n    environment:\n      - REDIS_PORT=6379\n";
    expect(advice("compose.yaml", environment, "yaml").map(([replacement]) => replacement)).toEqual([
      "${REDIS_PORT}",
    ]);
    expect(
      advice("config.yml", "url: ${REDIS_URL}\nredis:\n  port: 6379\n", "yaml").map(
        ([replacement]) => replacement,
      ),
    ).toEqual(["${REDIS_PORT}"]);
    const workflow =
      "services:\n  redis:\n    ports: [6379]\nenv:\n  HOME_DIR: ${HOME}\nwith:\n  port: 6379\n";
    expect(advice(".github/workflows/ci.yml", workflow, "yaml").map(([replacement]) => replacement)).toEqual([
      null,
    ]);
    // package.json: a script runs in a shell (also PORT=N before the command); a config value is JSON.
    const packageJson = [
      "{",
      '  "scripts": { "dev": "next dev --port 3100", "start": "DASHBOARD_PORT=3100 next start" },',
      '  "config": { "dir": "C:\\\\", "port": 3100 }',
      "}",
      "",
    ].join("\n");
    expect(advice("config.json", '{ "url": "http://localhost:3400" }\n', "json")[0]?.[1]).toBe(
      "localhost:3400 hardcodes the port of workspace-api; use WORKSPACE_API_URL (from .env.shared; JSON cannot interpolate) instead (from the host: localhost and WORKSPACE_API_PORT)",
    );
    expect(advice("apps/web/package.json", packageJson, "json").map(([replacement]) => replacement)).toEqual([
      "${DASHBOARD_PORT}",
      "${DASHBOARD_PORT}",
      "DASHBOARD_PORT (from .env.shared; JSON cannot interpolate)",
    ]);
  });

  test("localhost on a container's port offers its URL, and localhost with the port from the host", () => {
    expect(advise('const db = "postgres://u:p@localhost:5433/db";\n', "code")).toEqual([
      [
        "localhost-port",
        "timescaledb",
        "process.env.TIMESCALEDB_URL",
        "localhost:5433 hardcodes the port of timescaledb; use process.env.TIMESCALEDB_URL instead (from the host: localhost and process.env.TIMESCALEDB_PORT)",
      ],
    ]);
  });
});
