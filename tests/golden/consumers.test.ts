/**
 * Real consumers read what sync writes: ajv with the Compose schema and `docker-compose config` for
 * the compose files, shellcheck and bash for the health script, @mdx-js/mdx for the docs page, Bun's
 * and Compose's env_file parsers for .env.shared, and ajv with the generated registry schema.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { compile, createProcessor } from "@mdx-js/mdx";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { parse as parseYaml } from "yaml";
import { DEFAULT_REGISTRY_PATH } from "../../lib/load.ts";
import { COMPOSE_FILE_PATTERN, OUTPUT_PATHS, planEnv } from "../../lib/render.ts";
import type { Registry } from "../../lib/schema.ts";
import { run as runSync } from "../../tasks/sync.ts";
import { FIXTURES, makeTempDir, removeDir } from "../core/support.ts";
import { loadValid, RENDER_CASES } from "./render-cases.ts";

type Spawned = { stdout: string; stderr: string; exitCode: number };

function spawn(command: string[], cwd: string, env: Record<string, string> = {}): Spawned {
  const result = Bun.spawnSync(command, {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return {
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
    exitCode: result.exitCode ?? -1,
  };
}

function requireTool(name: string): void {
  if (!Bun.which(name)) throw new Error(`${name} is not installed; run .ci/install-system-packages.sh`);
}

/** docker-compose (Python) takes about half a second per call on a busy machine. */
const SLOW = 120_000;

type Synced = { name: string; root: string; registry: Registry; composeFiles: string[] };

const synced: Synced[] = [];

beforeAll(async () => {
  for (const item of RENDER_CASES) {
    const root = await makeTempDir(`consumers-${item.name}-`);
    await mkdir(join(root, "config", "ports"), { recursive: true });
    await writeFile(join(root, DEFAULT_REGISTRY_PATH), await readFile(item.registryPath));
    const registry = await loadValid(item.registryPath);
    // Build contexts must exist for `docker-compose config`; the images themselves are not built here.
    for (const service of registry.services) {
      if (service.build) await mkdir(join(root, service.build.context), { recursive: true });
    }
    const report = await runSync({ root });
    if (!report.isValid) throw new Error(`sync refused ${item.name}`);
    const composeFiles = report.files
      .map((file) => file.path)
      .filter((path) => COMPOSE_FILE_PATTERN.test(path.slice(OUTPUT_PATHS.composeDir.length + 1)));
    synced.push({ name: item.name, root, registry, composeFiles });
  }
});

afterAll(async () => {
  for (const entry of synced) await removeDir(entry.root);
});

const each = (run: (entry: Synced) => void | Promise<void>) => async () => {
  expect(synced.map((entry) => entry.name)).toEqual(RENDER_CASES.map((item) => item.name));
  for (const entry of synced) await run(entry);
};

describe("compose files", () => {
  test(
    "validate against the Compose specification (ajv, draft-07)",
    async () => {
      const schema = JSON.parse(await readFile(join(FIXTURES, "schemas", "compose-spec.json"), "utf8"));
      // The spec names draft-07 as "https://json-schema.org/draft-07/schema", which ajv's draft-07
      // meta-schema is not registered under; ajv's default dialect is draft-07 already.
      delete schema.$schema;
      const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
      expect(validate({ services: { probe: { image: "busybox", bogus: 1 } } })).toBe(false);
      await each(async (entry) => {
        expect(entry.composeFiles.length).toBeGreaterThan(0);
        for (const path of entry.composeFiles) {
          const document = parseYaml(await readFile(join(entry.root, path), "utf8"));
          const isValid = validate(document);
          expect({ path, errors: isValid ? null : validate.errors }).toEqual({ path, errors: null });
        }
      })();
    },
    SLOW,
  );

  test(
    "pass docker-compose config one by one, with ports read from .env.shared",
    each((entry) => {
      requireTool("docker-compose");
      // The default registry's stacks one by one; the larger registries in one merged project.
      const groups =
        entry.name === "default" ? entry.composeFiles.map((path) => [path]) : [entry.composeFiles];
      for (const files of groups) {
        const result = spawn(
          ["docker-compose", "--env-file", ".env.shared", ...files.flatMap((path) => ["-f", path]), "config"],
          entry.root,
        );
        expect({ files, stderr: result.stderr, exitCode: result.exitCode }).toEqual({
          files,
          stderr: "",
          exitCode: 0,
        });
        const config = parseYaml(result.stdout) as {
          services: Record<string, { ports?: { published: number | string; target: number }[] }>;
        };
        for (const [name, service] of Object.entries(config.services)) {
          const registered = entry.registry.services.find((candidate) => candidate.name === name);
          if (!service.ports) continue;
          expect({ name, published: service.ports.map((port) => Number(port.published)) }).toEqual({
            name,
            published: [registered?.port ?? -1],
          });
        }
      }
    }),
    SLOW,
  );
});

describe("health script", () => {
  test(
    "passes shellcheck",
    each((entry) => {
      requireTool("shellcheck");
      expect(spawn(["shellcheck", OUTPUT_PATHS.health], entry.root)).toEqual({
        stdout: "",
        stderr: "",
        exitCode: 0,
      });
    }),
    SLOW,
  );

  test("a registry string never runs as a command: the URL is printed literally", () => {
    const entry = synced.find((candidate) => candidate.name === "hostile") as Synced;
    const result = spawn(["bash", OUTPUT_PATHS.health], entry.root, { PORTS_HEALTH_TIMEOUT: "1" });
    expect(result.stderr).toBe("");
    // Whatever listens on this machine, the endpoint reaches curl as one literal URL.
    expect(result.stdout).toMatch(
      / web \(edge\) http:\/\/localhost:4000\/health\?probe=\$\(id\)&x=\$y;z\* -> \d{3}/,
    );
    expect(result.stdout).not.toContain("uid=");
    const summary = /^(\d+) healthy, (\d+) unhealthy, 0 skipped$/m.exec(result.stdout);
    expect(Number(summary?.[1]) + Number(summary?.[2])).toBe(2);
    expect(result.exitCode).toBe(Number(summary?.[2]) > 0 ? 1 : 0);
  });

  test("an unknown stack is a usage error", () => {
    const entry = synced[0] as Synced;
    expect(spawn(["bash", OUTPUT_PATHS.health, "--stack", "nope"], entry.root)).toEqual({
      stdout: "",
      stderr: "ports-health: no service matches --stack nope\n",
      exitCode: 2,
    });
  });
});

type MdastNode = { type: string; value?: string; children?: MdastNode[] };

function collect(node: MdastNode, into: { types: Set<string>; text: string[] }) {
  into.types.add(node.type);
  if (typeof node.value === "string" && node.type === "text") into.text.push(node.value);
  for (const child of node.children ?? []) collect(child, into);
}

describe("docs page", () => {
  test(
    "compiles with @mdx-js/mdx, holds no expression or JSX, and shows every string verbatim",
    each(async (entry) => {
      const source = await readFile(join(entry.root, OUTPUT_PATHS.docs), "utf8");
      await compile(source);
      const tree = createProcessor().parse(source) as unknown as MdastNode;
      const found = { types: new Set<string>(), text: [] as string[] };
      collect(tree, found);
      expect([...found.types].filter((type) => type.startsWith("mdx"))).toEqual([]);
      const text = found.text.join("");
      for (const service of entry.registry.services) {
        expect(text).toContain(service.description);
        expect(text).toContain(service.owner);
        if (service.deprecated && service.notes) expect(text).toContain(service.notes);
      }
    }),
    SLOW,
  );
});

describe(".env.shared", () => {
  test(
    "reads the same under Bun's parser and under Compose's env_file rules",
    each(async (entry) => {
      requireTool("docker-compose");
      const expected: Record<string, string> = {};
      for (const group of planEnv(entry.registry)) {
        for (const service of group.services) {
          for (const variable of service.entries) expected[variable.name] = variable.value;
        }
      }
      const envFile = join(entry.root, OUTPUT_PATHS.env);
      const bun = spawn(
        [
          process.execPath,
          `--env-file=${envFile}`,
          "-e",
          "process.stdout.write(JSON.stringify(process.env))",
        ],
        join(entry.root, "config"),
      );
      expect(bun.stderr).toBe("");
      const bunEnv = JSON.parse(bun.stdout) as Record<string, string>;
      const probe = join(entry.root, "env-probe.yml");
      await writeFile(
        probe,
        `services:\n  probe:\n    image: busybox\n    env_file: [${JSON.stringify(envFile)}]\n`,
      );
      const compose = spawn(["docker-compose", "-f", probe, "config"], entry.root);
      expect(compose.stderr).toBe("");
      const composeEnv = (parseYaml(compose.stdout) as { services: { probe: { environment: object } } })
        .services.probe.environment as Record<string, string>;
      const pick = (source: Record<string, string>) =>
        Object.fromEntries(Object.keys(expected).map((name) => [name, source[name]]));
      expect(pick(bunEnv)).toEqual(expected);
      expect(pick(composeEnv)).toEqual(expected);
      expect(Object.keys(composeEnv).sort()).toEqual(Object.keys(expected).sort());
    }),
    SLOW,
  );
});

describe("index.json and registry.schema.json", () => {
  test(
    "index.json parses and holds every service with its derived variable names",
    each(async (entry) => {
      const index = JSON.parse(await readFile(join(entry.root, OUTPUT_PATHS.index), "utf8"));
      expect(index.services.map((service: { name: string }) => service.name)).toEqual(
        entry.registry.services.map((service) => service.name).sort(),
      );
      for (const service of index.services) {
        const prefix = service.name.toUpperCase().replaceAll("-", "_");
        expect(service.env.port).toBe(`${prefix}_PORT`);
        const registered = entry.registry.services.find((candidate) => candidate.name === service.name);
        expect(service.description).toBe(registered?.description);
      }
    }),
    SLOW,
  );

  test(
    "the generated JSON Schema (draft-07) accepts the registry and rejects a misspelt key",
    each(async (entry) => {
      const schema = JSON.parse(await readFile(join(entry.root, OUTPUT_PATHS.schema), "utf8"));
      expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats(ajv);
      const validate = ajv.compile(schema);
      const document = parseYaml(await readFile(join(entry.root, DEFAULT_REGISTRY_PATH), "utf8"));
      expect(validate(document) ? null : validate.errors).toEqual(null);
      // What validate refuses, the editor flags too: one change at a time on a copy.
      const refused: [string, (registry: typeof document) => void][] = [
        [
          "a misspelt key",
          (r) => {
            r.services[0].protcol = r.services[0].protocol;
            delete r.services[0].protocol;
          },
        ],
        [
          "an unknown rule",
          (r) => {
            r.rules = { "no-such-rule": "error" };
          },
        ],
        [
          "a rule that cannot be overridden",
          (r) => {
            r.rules = { "yaml-syntax": "off" };
          },
        ],
        [
          "a reserved name",
          (r) => {
            r.services[0].name = "constructor";
          },
        ],
        [
          "a repeated dependency",
          (r) => {
            r.services[0].depends_on = [r.services[1].name, r.services[1].name];
          },
        ],
        [
          "a build context that climbs",
          (r) => {
            r.services[0].build = { context: "../x" };
          },
        ],
        [
          "an absolute Dockerfile",
          (r) => {
            r.services[0].build = { context: "app", dockerfile: "/Dockerfile" };
          },
        ],
        [
          "a bind mount that climbs",
          (r) => {
            r.services[0].volumes = ["./a/../../b:/x"];
          },
        ],
      ];
      for (const [what, change] of refused) {
        const copy = structuredClone(document);
        change(copy);
        expect({ what, isValid: validate(copy) }).toEqual({ what, isValid: false });
      }
      const allowed = structuredClone(document);
      allowed.services[0].volumes = ["./a..b/c:/x"];
      allowed.services[0].build = { context: "services/a..b", dockerfile: "docker/Dockerfile" };
      expect(validate(allowed) ? null : validate.errors).toEqual(null);
    }),
    SLOW,
  );
});
