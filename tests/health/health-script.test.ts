/**
 * The generated health script (scripts/maintenance/ports-health.sh), run by bash against real
 * listeners: checks overlap, up to PORTS_HEALTH_JOBS at a time, and results print in the
 * registry's order with the summary and exit code of a sequential run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { TCPSocketListener } from "bun";
import { OUTPUT_PATHS } from "../../lib/render.ts";
import { run as runSync } from "../../tasks/sync.ts";
import { makeRegistryRoot, removeDir, spawnAsync } from "../core/support.ts";

/** Listeners that accept and never answer: every HTTP check waits for its full timeout. */
let silent: TCPSocketListener<undefined>[] = [];
let open = 0;
let mostOpen = 0;
let root: string;
let names: string[] = [];

beforeAll(async () => {
  for (let index = 0; index < 4; index++) {
    silent.push(
      Bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        socket: {
          open() {
            open++;
            mostOpen = Math.max(mostOpen, open);
          },
          close() {
            open--;
          },
          data() {},
        },
      }),
    );
  }
  // Written highest port first: the script prints by stack, then port, not in the file's order.
  const ports = silent.map((listener) => listener.port).sort((a, b) => a - b);
  names = ports.map((_, index) => `slow-${index}`);
  const services = ports.map((port, index) =>
    [
      `  - name: slow-${index}`,
      "    stack: edge",
      `    port: ${port}`,
      "    protocol: http",
      "    owner: Team A",
      "    description: Accepts and never answers",
      "    healthcheck:",
      "      endpoint: /health",
    ].join("\n"),
  );
  root = await makeRegistryRoot(edgeRegistry([...services].reverse()), "health-script-");
  const report = await runSync({ root });
  if (!report.isValid) throw new Error(JSON.stringify(report.diagnostics));
});

/** A registry of one stack wide enough for any listener's port (ephemeral ones included). */
function edgeRegistry(services: string[], networks: string[] = []): string {
  return [
    'version: "1.0.0"',
    'lastUpdated: "2025-11-11"',
    "ranges:",
    '  edge: "1024-65535"',
    ...networks,
    "rules:",
    '  port-ephemeral: "off"',
    "services:",
    ...services,
    "",
  ].join("\n");
}

afterAll(async () => {
  for (const listener of silent) listener.stop(true);
  silent = [];
  await removeDir(root);
});

/** bash, asynchronously: the listeners in this process must keep accepting. */
function runScript(env: Record<string, string>) {
  return spawnAsync(["bash", OUTPUT_PATHS.health], root, {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    ...env,
  });
}

describe("the generated health script", () => {
  test("runs checks at the same time and prints them by stack, then port", async () => {
    mostOpen = 0;
    const result = await runScript({ PORTS_HEALTH_TIMEOUT: "2" });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(1);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines.slice(0, -1).map((line) => line.split(" ")[1])).toEqual(names);
    expect(
      lines.slice(0, -1).every((line) => line.startsWith("FAIL ") && line.endsWith("-> 000, expected 200")),
    ).toBe(true);
    expect(lines.at(-1)).toBe("0 healthy, 4 unhealthy, 0 skipped");
    expect(mostOpen).toBe(4);
  }, 20_000);

  test("PORTS_HEALTH_JOBS caps how many run at once", async () => {
    mostOpen = 0;
    const result = await runScript({ PORTS_HEALTH_TIMEOUT: "1", PORTS_HEALTH_JOBS: "1" });
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe("0 healthy, 4 unhealthy, 0 skipped");
    // One at a time; the listeners may see the next connection before the last one's close.
    expect(mostOpen).toBeLessThanOrEqual(2);
  }, 20_000);

  test("a PORTS_HEALTH_TIMEOUT of 0 (no limit to curl and timeout) is a usage error, not a hang", async () => {
    expect(await runScript({ PORTS_HEALTH_TIMEOUT: "0" })).toEqual({
      stdout: "",
      stderr: "ports-health: PORTS_HEALTH_TIMEOUT must be a whole number of seconds above 0\n",
      exitCode: 2,
    });
  });

  test("the script of an empty registry is valid bash and reports nothing to check", async () => {
    const empty = await makeRegistryRoot(
      'version: "1.0.0"\nlastUpdated: "2025-11-11"\nranges:\n  edge: "4000-4099"\nservices: []\n',
      "health-empty-",
    );
    try {
      await runSync({ root: empty });
      expect(
        await spawnAsync(["bash", OUTPUT_PATHS.health], empty, { PATH: process.env.PATH ?? "/usr/bin:/bin" }),
      ).toEqual({
        stdout: "0 healthy, 0 unhealthy, 0 skipped\n",
        stderr: "",
        exitCode: 0,
      });
    } finally {
      await removeDir(empty);
    }
  });

  test("an IPv6 host works bare or in brackets, for the HTTP and the TCP checks alike", async () => {
    const web = Bun.serve({ hostname: "::1", port: 0, fetch: () => new Response("ok") });
    const tcp = Bun.listen({ hostname: "::1", port: 0, socket: { data() {} } });
    const service = (name: string, port: number, protocol: string) =>
      [
        `  - name: ${name}`,
        "    stack: edge",
        `    port: ${port}`,
        `    protocol: ${protocol}`,
        "    owner: Team A",
        "    description: Listens on the IPv6 loopback",
      ].join("\n");
    const six = await makeRegistryRoot(
      edgeRegistry([service("six-web", web.port as number, "http"), service("six-cache", tcp.port, "redis")]),
      "health-ipv6-",
    );
    try {
      await runSync({ root: six });
      for (const host of ["::1", "[::1]"]) {
        const result = await spawnAsync(["bash", OUTPUT_PATHS.health], six, {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          PORTS_HEALTH_HOST: host,
          PORTS_HEALTH_TIMEOUT: "2",
        });
        expect({
          host,
          exitCode: result.exitCode,
          summary: result.stdout.trimEnd().split("\n").at(-1),
        }).toEqual({
          host,
          exitCode: 0,
          summary: "2 healthy, 0 unhealthy, 0 skipped",
        });
        expect(result.stdout).toContain(`http://[::1]:${web.port}/`);
        expect(result.stdout).toContain(`tcp://[::1]:${tcp.port}`);
      }
    } finally {
      web.stop(true);
      tcp.stop(true);
      await removeDir(six);
    }
  });

  test("a PORTS_HEALTH_JOBS that is not a positive whole number is a usage error", async () => {
    expect(await runScript({ PORTS_HEALTH_JOBS: "0" })).toEqual({
      stdout: "",
      stderr: "ports-health: PORTS_HEALTH_JOBS must be a whole number above 0\n",
      exitCode: 2,
    });
  });
});

describe("what the script and the compose healthchecks agree on", () => {
  /** Answers every request with the status its path names: /401 answers 401. */
  let server: ReturnType<typeof Bun.serve> | undefined;
  let where: string;

  beforeAll(async () => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => new Response("", { status: Number(new URL(request.url).pathname.slice(1)) || 200 }),
    });
    const service = (name: string, lines: string[]) =>
      [
        `  - name: ${name}`,
        "    stack: edge",
        "    owner: Team A",
        "    description: A service to check",
        ...lines,
      ].join("\n");
    const port = String(server.port);
    where = await makeRegistryRoot(
      edgeRegistry(
        [
          service("login", [
            `    port: ${port}`,
            "    protocol: http",
            "    container: true",
            "    network: backend",
            "    healthcheck:",
            "      endpoint: /401",
            "      expected: 401",
          ]),
          service("syslog", [
            "    port: 1514",
            "    protocol: udp",
            "    container: true",
            "    network: backend",
          ]),
          service("inner", [
            "    port: 1515",
            "    protocol: tcp",
            "    container: true",
            "    network: backend",
            "    exposure: internal",
          ]),
        ],
        ["networks:", "  backend: {}"],
      ),
      "health-agree-",
    );
    const report = await runSync({ root: where });
    if (!report.isValid) throw new Error(JSON.stringify(report.diagnostics));
  });

  afterAll(async () => {
    server?.stop(true);
    await removeDir(where);
  });

  test("udp is skipped, an internal service is skipped from the host, an expected 401 is healthy", async () => {
    const result = await spawnAsync(["bash", OUTPUT_PATHS.health], where, {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
    });
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\n").map((line) => line.split(" ")[0])).toEqual([
      "skip",
      "skip",
      "ok",
      "1",
      "",
    ]);
    expect(result.stdout).toContain("udp has no connection to probe");
    expect(result.stdout).toContain("exposure internal: not published (check it with --network)");
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe("1 healthy, 0 unhealthy, 2 skipped");
    expect(result.exitCode).toBe(0);
  });

  test("the compose file publishes udp as udp, and its healthcheck wants the exact expected status", async () => {
    const compose = await Bun.file(join(where, "tools/compose/docker-compose.edge.yml")).text();
    expect(compose).toContain(':1514/udp"');
    expect(compose).toContain('- "1515"');
    const test = /test: \["CMD-SHELL", (".*")\]/.exec(compose)?.[1];
    if (!test) throw new Error("no CMD-SHELL healthcheck");
    const command = (JSON.parse(test) as string).replaceAll("$$", "$");
    // As the container would run it, with curl, and without it (wget alone).
    const withCurl = await spawnAsync(["sh", "-c", command], where, {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
    });
    expect(withCurl.exitCode).toBe(0);
    const wrong = await spawnAsync(["sh", "-c", command.replaceAll("/401", "/200")], where, {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
    });
    expect(wrong.exitCode).toBe(1);
  });
});
