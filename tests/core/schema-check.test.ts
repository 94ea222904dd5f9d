/**
 * The hand-written schema check (lib/schema-check.ts) must agree with valibot: what it accepts,
 * valibot accepts and returns unchanged; what valibot accepts without extensions, it accepts too.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import fc from "fast-check";
import * as v from "valibot";
import { readPlainFast } from "../../lib/load-fast.ts";
import { REGISTRY_KEYS } from "../../lib/registry-constants.ts";
import { KNOWN_KEYS, registrySchema } from "../../lib/schema.ts";
import { isPlainValid } from "../../lib/schema-check.ts";

const ROOT = join(import.meta.dir, "..", "..");
const BASES = await Promise.all(
  ["config/ports/registry.yaml", "fixtures/validate/tradingsystem/registry.yaml"].map(async (path) =>
    readPlainFast(await Bun.file(join(ROOT, path)).text()),
  ),
);

/** A base registry with every optional field the fast reader can carry, so each is exercised. */
const FULL = {
  version: "1.2.3",
  lastUpdated: "2024-02-29",
  gatewayUrl: "https://gateway.example",
  rules: { "port-ephemeral": "off", "depends-native": "error" },
  networks: { backend: { driver: "bridge", external: false, description: "The backend network" } },
  ranges: { api: "4000-4099" },
  services: [
    {
      name: "api",
      stack: "api",
      port: 4000,
      protocol: "http",
      owner: "Platform team",
      description: "The public API service",
      container: true,
      network: ["backend"],
      containerPort: 8080,
      healthcheck: {
        endpoint: "/health?full=1",
        expected: 204,
        command: ["curl", "-f", "http://127.0.0.1:8080/health"], // ports:allow a test value
        interval: "10s",
        timeout: "3s",
        retries: 3,
        startPeriod: "500ms",
      },
      depends_on: ["db"],
      deprecated: true,
      replacement: "db",
      notes: "Moving to db",
      exposure: "gateway",
      gatewayPath: "/api/v1",
      image: "ghcr.io/example/api:1.0",
      build: {
        context: "services/api",
        dockerfile: "services/api/Dockerfile",
        args: { NODE_ENV: "production" },
      },
      command: ["bun", "run", "start"],
      environment: {
        DB_URL: { urlOf: "db" },
        DB_HOST: { hostOf: "db" },
        DB_PORT: { portOf: "db" },
        MODE: "fast",
      },
      volumes: ["data:/var/lib/data:ro", "./config:/etc/api"],
      restart: "on-failure",
    },
    {
      name: "db",
      stack: "api",
      port: 4001,
      protocol: "postgres",
      owner: "Data team",
      description: "The main database",
      network: "backend",
    },
  ],
};

/** Values that sit on or across the schema's boundaries, of every type. */
const TRICKY: unknown[] = [
  null,
  true,
  false,
  0,
  1,
  99,
  100,
  599,
  600,
  1023,
  1024,
  4000.5,
  65535,
  65536,
  -1,
  "",
  " ",
  "a",
  "ab",
  "x".repeat(10),
  "x".repeat(63),
  "x".repeat(64),
  "y".repeat(100),
  "y".repeat(101),
  "z".repeat(200),
  "z".repeat(201),
  "z".repeat(1001),
  "api",
  "db",
  "Api",
  "a-b",
  "a--b",
  "a_b",
  "constructor",
  "__proto__",
  "backend",
  "http",
  "https",
  "tcp",
  "smtp",
  "gateway",
  "internal",
  "always",
  "never",
  "error",
  "warning",
  "off",
  "on",
  "bridge",
  "/health",
  "/health#frag",
  "/a b",
  "health",
  "/api/v1",
  "/api?x",
  "10s",
  "10000s",
  "5m",
  "1h",
  "line\nbreak",
  "tab\tinside",
  "bell\u0007",
  "sep\u2028",
  "ünïcödé text here",
  "🚀".repeat(6),
  "🚀".repeat(10),
  "🚀".repeat(150),
  "🚀".repeat(201),
  "1.0.0",
  "1.0",
  "2024-02-29",
  "2023-02-29",
  "2024-13-01",
  "4000-4099",
  "4000 - 4099",
  "https://gateway.example",
  "http://host:80",
  "ftp://host",
  "redis:7",
  "Redis:7",
  "services/api",
  "/abs",
  "../up",
  "a/../b",
  "data:/var/lib/data",
  "./config:/etc/api",
  "./config/../../etc:/etc",
  "./a..b:/data",
  "data:relative",
  "host",
  "none",
  "overlay",
  "NODE_ENV",
  "node_env",
  [],
  ["api"],
  ["backend", "Front End"],
  [1],
  {},
  { urlOf: "db" },
  { urlOf: "db", hostOf: "db" },
  { portOf: "Not A Name" },
  { context: "services/api" },
  { "x-extra": 1 },
];

function valibotVerdict(raw: unknown): { success: boolean; output?: unknown } {
  const parsed = v.safeParse(registrySchema, raw, { abortPipeEarly: true });
  return parsed.success ? { success: true, output: parsed.output } : { success: false };
}

function expectAgreement(raw: unknown): void {
  const verdict = valibotVerdict(raw);
  const isValid = isPlainValid(raw);
  if (isValid) {
    expect(verdict.success).toBe(true);
    expect(Bun.deepEquals(verdict.output, raw, true)).toBe(true);
  }
  // Whatever valibot accepts and returns unchanged, the check accepts too. (Valibot drops keys
  // the schema does not know, such as x- extensions: those registries are left to it.)
  if (verdict.success && Bun.deepEquals(verdict.output, raw, true)) {
    expect({ raw, isValid }).toEqual({ raw, isValid: true });
  }
}

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const paths: Path[] = prefix.length > 0 ? [prefix] : [];
  if (value === null || typeof value !== "object") return paths;
  for (const [key, entry] of Object.entries(value)) {
    paths.push(...pathsOf(entry, [...prefix, Array.isArray(value) ? Number(key) : key]));
  }
  return paths;
}

function withValue(base: unknown, path: Path, replacement: unknown | typeof DELETE): unknown {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let parent = copy;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (replacement === DELETE) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    parent[last] = replacement;
  }
  return copy;
}
const DELETE = Symbol("delete");

describe("the hand-written schema check", () => {
  test("knows exactly the keys of the valibot schema", () => {
    expect(REGISTRY_KEYS).toEqual(KNOWN_KEYS as unknown as typeof REGISTRY_KEYS);
  });

  test("accepts the real registries and a registry using every field, as valibot does", () => {
    for (const base of [...BASES, FULL]) {
      expect(isPlainValid(base)).toBe(true);
      expectAgreement(base);
    }
  });

  test("every field is checked: a wrong value anywhere is refused by both", () => {
    for (const path of pathsOf(FULL)) {
      for (const replacement of [{ bogus: 1 }, 4000.5, "line\nbreak", null]) {
        expectAgreement(withValue(FULL, path, replacement));
      }
      expectAgreement(withValue(FULL, path, DELETE));
    }
  });

  test("an extension key is left to valibot, which drops it", () => {
    const extended = withValue(FULL, ["services", 0, "x-team"], "core");
    expect(isPlainValid(extended)).toBe(false);
    expect(valibotVerdict(extended).success).toBe(true);
  });

  test("property: on any value at any place, both agree", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(FULL, ...BASES),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...TRICKY, DELETE)), { minLength: 1, maxLength: 3 }),
        (base, edits) => {
          let raw: unknown = base;
          for (const [pick, replacement] of edits) {
            const paths = pathsOf(raw);
            if (paths.length === 0) break;
            raw = withValue(raw, paths[pick % paths.length] as Path, replacement);
          }
          expectAgreement(raw);
        },
      ),
      { numRuns: 3000 },
    );
  }, 60_000);
});
