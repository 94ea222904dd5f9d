/**
 * The loader: positions, YAML 1.2 core parsing, the pre-parse caps, salvage for the business rules,
 * and the loader and schema rule ids (each with a failing and a passing case).
 */
import { describe, expect, test } from "bun:test";
import { displayPath, findExcessiveDepth, formatPath, MAX_DEPTH, parseRegistry } from "../../lib/load.ts";
import { diagnostic, diagnosticsOf, HEAD, service } from "./support.ts";

const minimal = (body: string) =>
  `version: "1.0.0"\nlastUpdated: "2025-11-11"\nranges:\n  api: "4000-4099"\n${body}`;

describe("parseRegistry", () => {
  test("a valid file yields the typed registry and no diagnostics", () => {
    const parsed = parseRegistry(HEAD + service("a", 4000, ["x-owner-slack: '#team-a'"]), "r.yaml");
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.registry?.services).toEqual([
      {
        name: "a",
        stack: "api",
        port: 4000,
        protocol: "http",
        owner: "Team A",
        description: "Serves the a endpoints",
        container: true,
        network: "backend",
      },
    ]);
  });

  test("reads YAML 1.2 core, yes is a string only when quoted; an unquoted date is a YAML 1.1 timestamp", () => {
    const quoted = parseRegistry(minimal('services: []\nx-flag: "yes"\n'), "r.yaml");
    expect(quoted.diagnostics).toEqual([]);
    expect(quoted.registry?.lastUpdated).toBe("2025-11-11");
    const bare = parseRegistry(minimal("services: []\n").replace('"2025-11-11"', "2025-11-11"), "r.yaml");
    expect(bare.diagnostics).toEqual([
      diagnostic(
        2,
        14,
        "yaml-ambiguous-scalar",
        "error",
        'unquoted 2025-11-11 is a timestamp in YAML 1.1; quote it: "2025-11-11"',
      ),
    ]);
  });

  test("a typed error elsewhere never hides a business rule: salvage keeps the valid fields", () => {
    const source = HEAD + service("a", 4000) + service("b", 4000).replace("owner: Team A", "owner: 42");
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(19, 11, "port-duplicate", "error", "port 4000 is already used by a"),
      diagnostic(21, 12, "schema-type", "error", "b: services[1].owner must be a string, got 42"),
    ]);
  });

  test("locate falls back to the nearest existing ancestor", () => {
    const parsed = parseRegistry(HEAD + service("a", 4000), "r.yaml");
    expect(parsed.locate(["services", 0, "port"])).toEqual({ line: 11, col: 11 });
    expect(parsed.locate(["services", 0, "port"], "key")).toEqual({ line: 11, col: 5 });
    expect(parsed.locate(["services", 0, "nope", "deeper"])).toEqual({ line: 9, col: 5 });
    expect(parsed.locate(["services", 7])).toEqual({ line: 9, col: 3 });
  });
});

describe("loader rules", () => {
  test("schema-required names the missing field at its mapping", () => {
    expect(diagnosticsOf(HEAD + service("a", 4000).replace("    protocol: http\n", ""))).toEqual([
      diagnostic(9, 5, "schema-required", "error", "a: services[0].protocol is required"),
    ]);
    expect(diagnosticsOf('version: "1.0.0"\nlastUpdated: "2025-11-11"\nservices: []\n')).toEqual([
      diagnostic(1, 1, "schema-required", "error", "ranges is required"),
    ]);
  });

  test("schema-type: a list or a scalar where a mapping belongs", () => {
    expect(diagnosticsOf("- a\n- b\n")).toEqual([
      diagnostic(1, 1, "schema-type", "error", "(root) must be a mapping, got a list"),
    ]);
    expect(diagnosticsOf(minimal("services:\n  - [a, b]\n"))).toEqual([
      diagnostic(6, 5, "schema-type", "error", "services[0] must be a mapping, got a list"),
    ]);
    expect(diagnosticsOf("")).toEqual([
      diagnostic(1, 1, "schema-type", "error", "(root) must be a mapping, got null"),
    ]);
  });

  test("schema-value: lastUpdated must be a real date", () => {
    expect(diagnosticsOf(minimal("services: []\n").replace("2025-11-11", "2025-02-30"))).toEqual([
      diagnostic(
        2,
        14,
        "schema-value",
        "error",
        'lastUpdated must be a real calendar date, got "2025-02-30"',
      ),
    ]);
  });

  test("schema-unknown-key with did-you-mean; x- keys are extensions at every level", () => {
    const source = `${minimal("services: []\n")}x-anything: { nested: [1, 2] }\nnetwork:\n  a: {}\n`;
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(7, 1, "schema-unknown-key", "error", 'unknown key "network"; did you mean "networks"?'),
    ]);
  });

  test("yaml-duplicate-key points at the repeated key", () => {
    expect(diagnosticsOf(minimal("services: []\nservices: []\n"))).toEqual([
      diagnostic(6, 1, "yaml-duplicate-key", "error", 'key "services" appears twice in this mapping'),
    ]);
  });

  test("yaml-alias: anchors and aliases are reported, never expanded", () => {
    expect(diagnosticsOf(minimal("services: &s []\nx-copy: *s\n"))).toEqual([
      diagnostic(5, 14, "yaml-alias", "error", "anchor &s is not allowed; repeat the value instead"),
      diagnostic(6, 9, "yaml-alias", "error", "alias *s is not allowed; repeat the value instead"),
    ]);
  });

  test("yaml-tag and yaml-non-string-key", () => {
    expect(diagnosticsOf(minimal("services: !!seq []\n"))).toEqual([
      diagnostic(5, 17, "yaml-tag", "error", "tag tag:yaml.org,2002:seq is not allowed; write a plain value"),
    ]);
    expect(diagnosticsOf(minimal("services: []\nx-map:\n  true: 1\n"))).toEqual([
      diagnostic(7, 3, "yaml-non-string-key", "error", "mapping keys must be strings; quote the key"),
    ]);
  });

  test("yaml-ambiguous-scalar for each YAML 1.1 surprise, and their quoted forms pass", () => {
    const surprises = ["0755", "no", "ON", "22:22", "1:30:00", "1_000"];
    for (const value of surprises) {
      const found = diagnosticsOf(minimal(`services: []\nx-v: ${value}\n`));
      expect(found.map((item) => [item.line, item.col, item.rule])).toEqual([
        [6, 6, "yaml-ambiguous-scalar"],
      ]);
      expect(diagnosticsOf(minimal(`services: []\nx-v: "${value}"\n`))).toEqual([]);
    }
  });

  test("yaml-directive: %YAML 1.1 is a warning, %YAML 1.2 is silent", () => {
    expect(diagnosticsOf(`%YAML 1.1\n---\n${minimal("services: []\n")}`)).toEqual([
      diagnostic(
        1,
        1,
        "yaml-directive",
        "warning",
        "%YAML 1.1 is ignored; the registry is read as YAML 1.2 core",
      ),
    ]);
    expect(diagnosticsOf(`%YAML 1.2\n---\n${minimal("services: []\n")}`)).toEqual([]);
  });

  test("yaml-syntax stops before the schema, so nothing else is guessed", () => {
    expect(diagnosticsOf(minimal("services: [\n"))).toEqual([
      diagnostic(
        6,
        1,
        "yaml-syntax",
        "error",
        "Flow sequence in block collection must be sufficiently indented and end with a ]",
      ),
    ]);
  });

  test("yaml-too-deep: block and flow nesting are capped before parsing", () => {
    const flow = `x: ${"[".repeat(MAX_DEPTH)}${"]".repeat(MAX_DEPTH)}\n`;
    expect(diagnosticsOf(flow)).toEqual([
      diagnostic(1, MAX_DEPTH + 3, "yaml-too-deep", "error", `nests deeper than ${MAX_DEPTH} levels`),
    ]);
    expect(
      findExcessiveDepth(`x: ${"[".repeat(MAX_DEPTH - 1)}${"]".repeat(MAX_DEPTH - 1)}\n`),
    ).toBeUndefined();
    expect(findExcessiveDepth('x: "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["\n')).toBeUndefined();
    expect(findExcessiveDepth("x: 1 # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n")).toBeUndefined();
    const block = Array.from({ length: MAX_DEPTH + 1 }, (_, depth) => `${"  ".repeat(depth)}k${depth}:`).join(
      "\n",
    );
    expect(findExcessiveDepth(block)).toEqual({ line: MAX_DEPTH + 1, col: MAX_DEPTH * 2 + 1 });
  });

  test("file-too-large is checked on the source text too", () => {
    const big = "#".repeat(9 * 1024 * 1024);
    const found = parseRegistry(big, "r.yaml").diagnostics;
    expect(found.map((item) => [item.line, item.col, item.rule])).toEqual([[1, 1, "file-too-large"]]);
  });

  test("name-reserved for __proto__, constructor and prototype anywhere", () => {
    expect(diagnosticsOf(HEAD + service("a", 4000, ["environment:", "  constructor: x"]))).toEqual([
      diagnostic(
        18,
        7,
        "name-reserved",
        "error",
        '"constructor" is a reserved name and cannot be used as a key',
      ),
    ]);
    expect(diagnosticsOf(HEAD + service("prototype", 4000))).toEqual([
      diagnostic(
        9,
        11,
        "name-reserved",
        "error",
        'prototype: services[0].name "prototype" is a reserved name; choose another, got "prototype"',
      ),
    ]);
    expect(
      Object.getPrototypeOf(parseRegistry(minimal("services: []\nx-a:\n  __proto__: 1\n"), "r.yaml")),
    ).toBe(Object.prototype);
  });
});

describe("paths", () => {
  test("displayPath is relative inside the root and absolute outside", () => {
    expect(displayPath("/repo/config/ports/registry.yaml", "/repo")).toBe("config/ports/registry.yaml");
    expect(displayPath("/elsewhere/registry.yaml", "/repo")).toBe("../elsewhere/registry.yaml");
    expect(formatPath(["services", 3, "healthcheck", "endpoint"])).toBe("services[3].healthcheck.endpoint");
    expect(formatPath([])).toBe("(root)");
  });
});

describe("schema messages are plain words, never valibot's defaults", () => {
  test("an empty network list, an unknown driver and retries out of range", () => {
    const source =
      `${HEAD}${service("a", 4000, ["healthcheck:", "  retries: 0"]).replace("network: backend", "network: []")}`.replace(
        "  backend: {}",
        "  backend: { driver: macvlan }",
      );
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(
        7,
        22,
        "schema-value",
        "error",
        'networks.backend.driver must be bridge or overlay (Compose cannot create a host or none network), got "macvlan"',
      ),
      diagnostic(
        16,
        14,
        "schema-value",
        "error",
        "a: services[0].network must name at least one network, got a list",
      ),
      diagnostic(
        18,
        16,
        "schema-value",
        "error",
        "a: services[0].healthcheck.retries must be between 1 and 100, got 0",
      ),
    ]);
    for (const found of diagnosticsOf(source)) expect(found.message).not.toMatch(/Invalid |Expected/);
  });
});

describe("syntax errors in the registry's terms", () => {
  const head =
    'version: "1.0.0"\nlastUpdated: "2025-11-11"\nranges:\n  api: "4000-4099"\nservices:\n  - name: a\n';
  test("a key without a space after its colon says how to write it", () => {
    expect(diagnosticsOf(`${head}    stack: api\n    port:6379\n`)).toEqual([
      diagnostic(
        8,
        5,
        "yaml-syntax",
        "error",
        'Implicit map keys need to be followed by map values; a key needs a space after its colon: write "port: 6379"',
      ),
    ]);
  });
  test("one error per line: a tab is reported once, not with the errors that follow from it", () => {
    expect(diagnosticsOf(`${head}\tstack: api\n    port: 4000\n`)).toEqual([
      diagnostic(7, 1, "yaml-syntax", "error", "Tabs are not allowed as indentation"),
    ]);
  });
  test("a second document says the registry is one document", () => {
    expect(diagnosticsOf(`${head}    stack: api\n---\nx: 1\n`)).toEqual([
      diagnostic(
        8,
        1,
        "yaml-syntax",
        "error",
        "a registry is one YAML document: remove this --- and what follows it, or merge it into the first",
      ),
    ]);
  });
});

describe("references Docker and browsers accept", () => {
  test("an image tag may be upper case; the name may not", () => {
    const withImage = (image: string) => HEAD + service("a", 4000, [`image: "${image}"`]);
    expect(diagnosticsOf(withImage("mcr.microsoft.com/mssql/server:2022-CU12-ubuntu-22.04"))).toEqual([]);
    expect(diagnosticsOf(withImage("registry.local:5000/team/app:Latest"))).toEqual([]);
    expect(diagnosticsOf(withImage("Team/app:1")).map((found) => found.rule)).toEqual(["schema-value"]);
  });
  test("a gateway URL's port lies in 1-65535", () => {
    const withGateway = (url: string) =>
      HEAD.replace("ranges:", `gatewayUrl: ${url}\nranges:`) + service("a", 4000);
    expect(diagnosticsOf(withGateway("http://localhost:65535"))).toEqual([]);
    expect(diagnosticsOf(withGateway("http://localhost:99999")).map((found) => found.rule)).toEqual([
      "schema-value",
    ]);
  });
  test("a Dockerfile path is relative to the build context", () => {
    const source =
      HEAD + service("a", 4000, ["build:", "  context: services/a", "  dockerfile: /Dockerfile"]);
    expect(diagnosticsOf(source).map((found) => found.message)).toEqual([
      'a: services[0].build.dockerfile must be relative to the build context, got "/Dockerfile"',
    ]);
  });
});

describe("lengths in characters", () => {
  test("free text counts characters (code points), as JSON Schema's maxLength does: an emoji is one", () => {
    const described = (text: string) =>
      HEAD + service("a", 4000).replace("description: Serves the a endpoints", `description: "${text}"`);
    expect(diagnosticsOf(described("🚀".repeat(150)))).toEqual([]);
    expect(diagnosticsOf(described("🚀".repeat(6))).map((found) => found.message)).toEqual([
      `a: services[0].description must be at least 10 characters, got "${"🚀".repeat(6)}"`,
    ]);
    expect(diagnosticsOf(described("🚀".repeat(201))).map((found) => found.rule)).toEqual(["schema-value"]);
  });
});

describe("free text is neither blank nor padded", () => {
  test("a blank owner or a padded description is a schema error with its own message; inner spaces are fine", () => {
    const withOwner = (owner: string) => HEAD + service("a", 4000).replace(/owner: .*/, `owner: "${owner}"`);
    const withDescription = (description: string) =>
      HEAD + service("a", 4000).replace(/description: .*/, `description: "${description}"`);
    expect(diagnosticsOf(withOwner("Team  A"))).toEqual([]);
    expect(diagnosticsOf(withOwner("   ")).map((found) => found.message)).toEqual([
      'a: services[0].owner must not be blank, got "   "',
    ]);
    expect(diagnosticsOf(withOwner("Orders Team   ")).map((found) => found.message)).toEqual([
      'a: services[0].owner must not start or end with a space, got "Orders Team   "',
    ]);
    expect(diagnosticsOf(withDescription("\u00a0Serves the a endpoints")).map((found) => found.rule)).toEqual(
      ["schema-value"],
    );
  });
});

describe("numbers too large to read exactly", () => {
  test("are named as such, never shown as another number", () => {
    const source = HEAD + service("a", 4000).replace("port: 4000", "port: 99999999999999999999");
    expect(diagnosticsOf(source).map((found) => found.message)).toEqual([
      "a: services[0].port must be between 1024 and 65535, got a number too large to read exactly",
    ]);
  });
});
