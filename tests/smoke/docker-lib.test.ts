import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import {
  composeArgv,
  createProjectName,
  exitCodeOf,
  findBaseImageDefault,
  formatChecks,
  formatPhases,
  nativeVariant,
  offlineBaseChanges,
  overrideEnvText,
  parseComposeVersion,
  parseLddOutput,
  planOfflineRootfs,
  type SmokeCheck,
} from "../../lib/docker.ts";
import { loadRegistry } from "../../lib/load.ts";
import { composePathOf, renderAll } from "../../lib/render.ts";
import type { Registry } from "../../lib/schema.ts";

const ROOT = join(import.meta.dir, "..", "..");

async function loadDefaultRegistry(): Promise<Registry> {
  const parsed = await loadRegistry(join(ROOT, "config", "ports", "registry.yaml"), ROOT);
  if (!parsed.registry) throw new Error("the default registry must be valid");
  return parsed.registry;
}

describe("compose helpers", () => {
  test("parseComposeVersion reads v2 --short, v-prefixed and v1 banners", () => {
    expect(
      ["2.29.1\n", "v2.31.0", "docker-compose version 1.29.2, build unknown", "garbage"].map(
        parseComposeVersion,
      ),
    ).toEqual(["2.29.1", "2.31.0", "1.29.2", undefined]);
  });

  test("composeArgv names the project, directory, files and env file for v1 and v2", () => {
    const run = {
      project: "p",
      files: ["/r/a.yml", "/t/b.yml"],
      envFile: "/t/run.env",
      projectDirectory: "/r",
    };
    const tail = [
      "--project-name",
      "p",
      "--project-directory",
      "/r",
      "--file",
      "/r/a.yml",
      "--file",
      "/t/b.yml",
      "--env-file",
      "/t/run.env",
    ];
    expect(composeArgv("v1", run)).toEqual(["docker-compose", ...tail]);
    expect(composeArgv("v2", run)).toEqual(["docker", "compose", ...tail]);
    expect(() => composeArgv("v1", { ...run, envFile: "run.env" })).toThrow(
      "compose path must be absolute: run.env",
    );
  });

  test("createProjectName is lowercase, unique per pid and suffix, and refuses an empty suffix", () => {
    expect(createProjectName(42, "A1b2C3d4e5")).toBe("ptg-smoke-42-a1b2c3d4");
    expect(() => createProjectName(42, "--")).toThrow();
  });

  test("findBaseImageDefault reads the official default from both stand-in Dockerfiles", async () => {
    const defaults = await Promise.all(
      ["mtproto", "gateway-api"].map(async (name) =>
        findBaseImageDefault(await readFile(join(ROOT, "fixtures", "telegram", name, "Dockerfile"), "utf8")),
      ),
    );
    expect(defaults).toEqual(["oven/bun:1.4.5", "oven/bun:1.4.5"]);
    expect(findBaseImageDefault("FROM debian\n")).toBeUndefined();
  });

  test("exitCodeOf: skips pass, one failure fails", () => {
    const check = (status: SmokeCheck["status"]): SmokeCheck => ({
      id: 1,
      name: "n",
      status,
      ms: 0,
      detail: "",
    });
    expect([exitCodeOf([check("pass"), check("skip")]), exitCodeOf([check("pass"), check("fail")])]).toEqual([
      0, 1,
    ]);
  });
});

describe("overrideEnvText", () => {
  test("replaces the given keys in place, appends missing ones, keeps everything else", () => {
    const text = "# header\nA_PORT=1\nA_URL=http://a:1\n\nB_PORT=2\n";
    expect(overrideEnvText(text, { B_PORT: "40002", C_PORT: "40003" }, "run x")).toBe(
      "# run x\n# header\nA_PORT=1\nA_URL=http://a:1\n\nB_PORT=40002\nC_PORT=40003\n",
    );
    expect(overrideEnvText("A=1", { A: "2" }, "n")).toBe("# n\nA=2\n");
  });
});

describe("offline base image", () => {
  const LDD = [
    "\tlinux-vdso.so.1 (0x00007ffd)",
    "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f10)",
    "\t/lib64/ld-linux-x86-64.so.2 (0x00007f20)",
    "\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f30)",
    "\tlibgone.so.1 => not found",
  ].join("\n");

  test("parseLddOutput keeps library paths in order and reports missing ones", () => {
    expect(parseLddOutput(LDD)).toEqual({
      libraries: [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/x86_64-linux-gnu/libm.so.6",
      ],
      missing: ["libgone.so.1"],
    });
  });

  test("the Bun binary in node_modules links only libraries that exist on this machine", async () => {
    const bun = join(ROOT, "node_modules", "bun", "bin", "bun.exe");
    const ldd = Bun.spawnSync(["ldd", bun]);
    const { libraries, missing } = parseLddOutput(ldd.stdout.toString());
    expect(missing).toEqual([]);
    expect(libraries.some((path) => path.endsWith("/libc.so.6"))).toBe(true);
    expect(libraries.filter((path) => !existsSync(path))).toEqual([]);
  });

  test("planOfflineRootfs lays out bun, its libraries at the loader's paths, /tmp and /etc", () => {
    const entries = planOfflineRootfs("/repo/node_modules/bun/bin/bun.exe", [
      "/lib/x86_64-linux-gnu/libc.so.6",
      "/lib64/ld-linux-x86-64.so.2",
    ]);
    expect(entries).toEqual([
      { kind: "dir", path: "app", mode: 0o755 },
      { kind: "dir", path: "etc", mode: 0o755 },
      { kind: "dir", path: "lib", mode: 0o755 },
      { kind: "dir", path: "lib/x86_64-linux-gnu", mode: 0o755 },
      { kind: "dir", path: "lib64", mode: 0o755 },
      { kind: "dir", path: "tmp", mode: 0o1777 },
      { kind: "dir", path: "usr", mode: 0o755 },
      { kind: "dir", path: "usr/local", mode: 0o755 },
      { kind: "dir", path: "usr/local/bin", mode: 0o755 },
      { kind: "file", path: "usr/local/bin/bun", source: "/repo/node_modules/bun/bin/bun.exe", mode: 0o755 },
      { kind: "symlink", path: "usr/local/bin/bunx", target: "bun" },
      {
        kind: "file",
        path: "lib/x86_64-linux-gnu/libc.so.6",
        source: "/lib/x86_64-linux-gnu/libc.so.6",
        mode: 0o755,
      },
      {
        kind: "file",
        path: "lib64/ld-linux-x86-64.so.2",
        source: "/lib64/ld-linux-x86-64.so.2",
        mode: 0o755,
      },
      {
        kind: "text",
        path: "etc/passwd",
        content: "root:x:0:0:root:/root:/sbin/nologin\nbun:x:10001:10001:bun:/app:/sbin/nologin\n",
        mode: 0o644,
      },
      { kind: "text", path: "etc/group", content: "root:x:0:\nbun:x:10001:\n", mode: 0o644 },
      {
        kind: "text",
        path: "etc/nsswitch.conf",
        content: "passwd: files\ngroup: files\nhosts: files dns\n",
        mode: 0o644,
      },
    ]);
  });

  test("offlineBaseChanges puts bun on PATH and labels the version", () => {
    expect(offlineBaseChanges("1.4.5")).toEqual([
      "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "ENV BUN_VERSION=1.4.5",
      "LABEL org.opencontainers.image.title=bun-offline org.opencontainers.image.version=1.4.5",
      "WORKDIR /app",
      'CMD ["bun"]',
    ]);
  });
});

describe("tables", () => {
  test("formatChecks and formatPhases align columns and show seconds", () => {
    const checks: SmokeCheck[] = [
      { id: 1, name: "stack up", status: "pass", ms: 9400, detail: "healthy" },
      { id: 6, name: "--native rollback", status: "skip", ms: 0, detail: "pass --native" },
    ];
    expect(formatChecks(checks)).toBe(
      [
        "#  check              result  time   detail",
        "1  stack up           PASS    9.4 s  healthy",
        "6  --native rollback  SKIP    0.0 s  pass --native",
      ].join("\n"),
    );
    expect(
      formatPhases([
        { name: "build", ms: 3125 },
        { name: "teardown", ms: 1400, note: "down -v" },
      ]),
    ).toBe(["phase     time   note", "build     3.1 s", "teardown  1.4 s  down -v"].join("\n"));
  });
});

// docker-compose v1 renders a compose file without an engine: the real consumer of what we pass it.
const COMPOSE_V1 = Bun.which("docker-compose");

describe.if(COMPOSE_V1 !== null)("docker-compose config (v1, no engine needed)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "smoke-compose-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const config = (args: string[]) => {
    const result = Bun.spawnSync([COMPOSE_V1 as string, ...args, "config"], {
      env: { ...process.env, NO_COLOR: "1" },
    });
    return { stdout: result.stdout.toString(), stderr: result.stderr.toString(), exitCode: result.exitCode };
  };

  test("the generated telegram compose file with a per-run env file publishes the run's ports", async () => {
    const envFile = join(dir, "run.env");
    const shared = await readFile(join(ROOT, ".env.shared"), "utf8");
    await writeFile(
      envFile,
      overrideEnvText(shared, { TELEGRAM_MTPROTO_PORT: "41007", TELEGRAM_GATEWAY_API_PORT: "41010" }, "run"),
    );
    const composeFile = join(ROOT, composePathOf("telegram"));
    const result = config([
      "--project-name",
      "ptg-smoke-1-test",
      "--project-directory",
      join(ROOT, "tools", "compose"),
      "--file",
      composeFile,
      "--env-file",
      envFile,
    ]);
    expect(result.exitCode).toBe(0);
    const services = (parse(result.stdout) as { services: Record<string, { ports: unknown[] }> }).services;
    expect([services["telegram-mtproto"]?.ports, services["telegram-gateway-api"]?.ports]).toEqual([
      [{ published: 41007, target: 4007 }],
      [{ published: 41010, target: 4010 }],
    ]);
  });

  test("the rollback variant sends the gateway to host.docker.internal through host-gateway", async () => {
    const variant = nativeVariant(await loadDefaultRegistry(), "telegram-mtproto", 45000);
    const rendered = renderAll(variant, { registryFile: "config/ports/registry.yaml" }).find(
      (output) => output.path === composePathOf("telegram"),
    );
    const variantFile = join(dir, "docker-compose.native.yml");
    await writeFile(variantFile, rendered?.content ?? "");
    const result = config([
      "--project-directory",
      join(ROOT, "tools", "compose"),
      "--file",
      variantFile,
      "--env-file",
      join(ROOT, ".env.shared"),
    ]);
    expect(result.exitCode).toBe(0);
    const services = (parse(result.stdout) as { services: Record<string, Record<string, unknown>> }).services;
    expect(Object.keys(services).sort()).toEqual([
      "telegram-gateway-api",
      "telegram-redis-master",
      "telegram-timescale",
    ]);
    const gateway = services["telegram-gateway-api"] as Record<string, unknown>;
    expect([gateway.environment, gateway.extra_hosts, gateway.depends_on]).toEqual([
      { MTPROTO_SERVICE_URL: "http://host.docker.internal:45000", PORT: "4010" },
      ["host.docker.internal:host-gateway"],
      undefined,
    ]);
  });

  test("nativeVariant refuses an unknown service", async () => {
    expect(() =>
      nativeVariant({ version: "1.0.0", lastUpdated: "2025-01-01", ranges: {}, services: [] }, "nope", 1),
    ).toThrow("no service nope in the registry");
  });
});
