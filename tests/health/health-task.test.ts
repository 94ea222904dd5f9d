import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HealthReport } from "../../tasks/health.ts";
import { runTaskAsync } from "../core/support.ts";
import { type Listeners, openListeners, renderEnvFile } from "./listeners.ts";

const ROOT = join(import.meta.dir, "..", "..");
const FIXTURE = join(ROOT, "fixtures", "health", "listeners", "registry.yaml");
const INVALID = join(ROOT, "fixtures", "health", "invalid", "registry.yaml");

/** Spawns the task asynchronously, so the listeners in this process keep answering. */
function runHealth(args: string[]) {
  return runTaskAsync("health", args);
}

let listeners: Listeners;
let tempDir: string;
let envFile: string;

beforeAll(async () => {
  listeners = await openListeners();
  tempDir = await mkdtemp(join(tmpdir(), "ports-health-"));
  envFile = join(tempDir, "ports.env");
  await writeFile(envFile, `# ports of this run\n${renderEnvFile(listeners.ports)}`);
});

afterAll(async () => {
  await listeners.close();
  await rm(tempDir, { recursive: true, force: true });
});

const anyMs = expect.any(Number);

describe("tasks/health.ts", () => {
  test("--json reports every service with its probe, status and detail, and exits 1", async () => {
    const { ports } = listeners;
    const result = await runHealth([
      "--registry",
      FIXTURE,
      "--env-file",
      envFile,
      "--timeout",
      "400",
      "--json",
    ]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout) as HealthReport;
    expect(report).toEqual({
      registry: "fixtures/health/listeners/registry.yaml",
      envFile,
      timeoutMs: 400,
      isHealthy: false,
      healthy: 3,
      unhealthy: 3,
      skipped: 1,
      diagnostics: [],
      results: [
        {
          service: "data-open",
          stack: "data",
          target: `tcp://localhost:${ports["data-open"]}`,
          status: "healthy",
          detail: "open",
          ms: anyMs,
        },
        {
          service: "data-closed",
          stack: "data",
          target: `tcp://localhost:${ports["data-closed"]}`,
          status: "unhealthy",
          detail: "connection refused",
          ms: anyMs,
        },
        {
          service: "data-metrics",
          stack: "data",
          target: `udp://localhost:${ports["data-metrics"]}`,
          status: "skipped",
          detail: "udp has no connection to probe",
          ms: anyMs,
        },
        {
          service: "web-ok",
          stack: "web",
          target: `http://localhost:${ports["web-ok"]}/health`,
          status: "healthy",
          detail: "HTTP 200",
          ms: anyMs,
        },
        {
          service: "web-teapot",
          stack: "web",
          target: `http://localhost:${ports["web-teapot"]}/status`,
          status: "healthy",
          detail: "HTTP 418",
          ms: anyMs,
        },
        {
          service: "web-broken",
          stack: "web",
          target: `http://localhost:${ports["web-broken"]}/health`,
          status: "unhealthy",
          detail: "HTTP 503, expected 200",
          ms: anyMs,
        },
        {
          service: "web-silent",
          stack: "web",
          target: `http://localhost:${ports["web-silent"]}/health`,
          status: "unhealthy",
          detail: "timed out after 400 ms",
          ms: anyMs,
        },
      ],
    });
  });

  test("text output is one aligned row per service and a summary", async () => {
    const result = await runHealth([
      "--registry",
      FIXTURE,
      "--env-file",
      envFile,
      "--timeout",
      "300",
      "--stack",
      "data",
      "--host",
      "127.0.0.1",
    ]);
    const { ports } = listeners;
    const normalized = result.stdout.replace(/\d+ ms$/gm, "N ms");
    const open = `tcp://127.0.0.1:${ports["data-open"]}`;
    const closed = `tcp://127.0.0.1:${ports["data-closed"]}`;
    const udp = `udp://127.0.0.1:${ports["data-metrics"]}`;
    const width = Math.max(open.length, closed.length, udp.length);
    expect(normalized).toBe(
      [
        `ok    data-open     data  ${open.padEnd(width)}  ${"open".padEnd(30)}  N ms`,
        `FAIL  data-closed   data  ${closed.padEnd(width)}  ${"connection refused".padEnd(30)}  N ms`,
        `skip  data-metrics  data  ${udp.padEnd(width)}  udp has no connection to probe  N ms`,
        "1 healthy, 1 unhealthy, 1 skipped",
        "",
      ].join("\n"),
    );
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(1);
  });

  test("exits 0 when every selected service is healthy", async () => {
    const result = await runHealth([
      "--registry",
      FIXTURE,
      "--env-file",
      envFile,
      "--service",
      "web-ok",
      "--service",
      "web-teapot",
      "--json",
    ]);
    const report = JSON.parse(result.stdout) as HealthReport;
    expect(report.results.map((r) => [r.service, r.status])).toEqual([
      ["web-ok", "healthy"],
      ["web-teapot", "healthy"],
    ]);
    expect(report.isHealthy).toBe(true);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
  });

  test("an invalid registry checks nothing, lists the errors on stderr and exits 1", async () => {
    const result = await runHealth(["--registry", INVALID]);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      [
        "fixtures/health/invalid/registry.yaml:18:11 error port-duplicate port 3100 is already used by web-one",
        "fixtures/health/invalid/registry.yaml: invalid registry; nothing was checked (see npm run ports:validate)",
        "",
      ].join("\n"),
    );
    expect(result.exitCode).toBe(1);
    // --json carries the same diagnostics as every other report: objects, warnings included.
    const json = await runHealth(["--registry", INVALID, "--json"]);
    const report = JSON.parse(json.stdout) as HealthReport;
    expect(report.diagnostics).toEqual([
      {
        file: "fixtures/health/invalid/registry.yaml",
        line: 18,
        col: 11,
        rule: "port-duplicate",
        severity: "error",
        message: "port 3100 is already used by web-one",
      },
    ]);
    expect(report.results).toEqual([]);
  });

  test("a registry with warnings only is checked as usual: the table on stdout, the warnings in --json", async () => {
    const warned = join(tempDir, "warned.yaml");
    await writeFile(warned, `%YAML 1.1\n---\n${await readFile(FIXTURE, "utf8")}`);
    const result = await runHealth(["--registry", warned, "--service", "web-ok"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("web-ok");
    const report = JSON.parse(
      (await runHealth(["--registry", warned, "--service", "web-ok", "--json"])).stdout,
    ) as HealthReport;
    expect(report.diagnostics.map((diagnostic) => diagnostic.severity)).toContain("warning");
    expect(report.results.map((result) => result.service)).toEqual(["web-ok"]);
  });

  test.each([
    [["--stack", "nope"], 'health: --stack: unknown stack "nope"; known: data, web'],
    [
      ["--stack", "web", "--service", "data-open"],
      'health: --service: "data-open" is not a service of stack web',
    ],
    [
      ["--timeout", "soon"],
      'health: --timeout must be a whole number of milliseconds between 1 and 600000, got "soon"',
    ],
    [["--env-file", "missing.env"], "health: missing.env: cannot read the env file (ENOENT)"],
    [["--colour"], "health: unknown option --colour; see --help"],
  ])("usage error %j exits 2 with one line", async (args, message) => {
    const result = await runHealth(["--registry", FIXTURE, ...args]);
    expect({ stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode }).toEqual({
      stdout: "",
      stderr: `${message}\n`,
      exitCode: 2,
    });
  });

  test("a port in the env file that is not a number is a config error (exit 2)", async () => {
    const bad = join(tempDir, "bad.env");
    await writeFile(bad, "WEB_OK_PORT=eighty\n");
    const result = await runHealth(["--registry", FIXTURE, "--env-file", bad, "--service", "web-ok"]);
    expect(result).toEqual({
      stdout: "",
      stderr: `health: ${bad}: WEB_OK_PORT="eighty" in the env file is not a port number\n`,
      exitCode: 2,
    });
  });

  test("--help prints usage and exits 0", async () => {
    const result = await runHealth(["--help"]);
    expect(result.stdout).toStartWith("Usage: bun tasks/health.ts [options]\n");
    expect(result.stdout).toContain("--env-file PATH");
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
  });
});
