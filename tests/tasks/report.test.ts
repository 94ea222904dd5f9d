/**
 * `bun tasks/report.ts`: utilisation and next free ports per stack, protocol counts, deprecated
 * services and findings; the exit code reflects validity.
 */
import { describe, expect, test } from "bun:test";
import type { PortsReport } from "../../tasks/report.ts";
import { diagnostic, HEAD, makeRegistryRoot, removeDir, runTask, service } from "../core/support.ts";

describe("report", () => {
  test("text report of a small registry", () => {
    expect(runTask("report", ["--root", "fixtures/sync/basic"])).toEqual({
      stdout: [
        "Port registry config/ports/registry.yaml v2.1.0 (updated 2025-12-01): 3 services",
        "",
        "Stacks",
        "  stack  range      used  size  use  next free",
        "  data   5400-5409  1     10    10%  5401, 5402, 5403",
        "  web    4000-4009  2     10    20%  4002, 4003, 4004",
        "",
        "Protocols",
        "  http       2",
        "  postgres   1",
        "",
        "Deprecated",
        "  legacy-admin (4001) -> shop",
        "",
        "Findings",
        "  none",
        "",
        "valid: 0 error(s), 0 warning(s)",
        "",
      ].join("\n"),
      stderr: "",
      exitCode: 0,
    });
  });

  test("--json is one PortsReport document", () => {
    const result = runTask("report", ["--root", "fixtures/sync/basic", "--json"]);
    const expected: PortsReport = {
      registry: "config/ports/registry.yaml",
      isValid: true,
      errors: 0,
      warnings: 0,
      diagnostics: [],
      version: "2.1.0",
      lastUpdated: "2025-12-01",
      services: 3,
      stacks: [
        {
          stack: "data",
          range: "5400-5409",
          min: 5400,
          max: 5409,
          size: 10,
          used: 1,
          free: 9,
          nextFree: [5401, 5402, 5403],
        },
        {
          stack: "web",
          range: "4000-4009",
          min: 4000,
          max: 4009,
          size: 10,
          used: 2,
          free: 8,
          nextFree: [4002, 4003, 4004],
        },
      ],
      protocols: { http: 2, postgres: 1 },
      deprecated: [{ name: "legacy-admin", port: 4001, replacement: "shop" }],
    };
    expect({ ...result, stdout: JSON.parse(result.stdout) }).toEqual({
      stdout: expected,
      stderr: "",
      exitCode: 0,
    });
  });

  test("next free ports skip ports registered in an overlapping stack (TradingSystem)", () => {
    const result = runTask("report", [
      "--registry",
      "fixtures/validate/tradingsystem/registry.yaml",
      "--json",
    ]);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout) as PortsReport;
    const gateway = report.stacks.find((stack) => stack.stack === "dashboard-gateway");
    expect(gateway).toEqual({
      stack: "dashboard-gateway",
      range: "9000-9099",
      min: 9000,
      max: 9099,
      size: 100,
      used: 1,
      free: 96, // 9002, 9090 and 9093 of the overlapping monitoring range are taken too
      nextFree: [9000, 9001, 9003],
    });
    expect(report.protocols).toEqual({ http: 24, postgres: 4, rabbitmq: 1, redis: 4 });
    expect(report.deprecated).toEqual([
      { name: "documentation-api-viewer", port: 3102, replacement: "api-viewer" },
      { name: "documentation-legacy", port: 3004, replacement: "documentation-hub" },
    ]);
    expect([report.errors, report.warnings]).toEqual([0, 6]);
  });

  test("a deprecated service shows its notes, as the docs page does", () => {
    const result = runTask("report", ["--registry", "fixtures/sync/default/registry.yaml"]);
    expect(result.stdout).toContain(
      "Deprecated\n  documentation-api-legacy (3403) -> documentation-api: Remove once the old export scripts call documentation-api\n",
    );
    const json = JSON.parse(
      runTask("report", ["--registry", "fixtures/sync/default/registry.yaml", "--json"]).stdout,
    ) as PortsReport;
    expect(json.deprecated[0]?.notes).toBe("Remove once the old export scripts call documentation-api");
  });

  test("a range whose free ports are all ephemeral says so, not full", async () => {
    const root = await makeRegistryRoot(
      `${HEAD.replace('api: "4000-4099"', 'high: "40000-40002"')}${service("a", 40000, [], "high")}`.replace(
        "ranges:",
        'rules:\n  port-ephemeral: "off"\nranges:',
      ),
      "report-ephemeral-",
    );
    try {
      const lines = runTask("report", ["--root", root]).stdout.split("\n");
      expect(lines.find((line) => line.includes("40000-40002"))?.trim()).toBe(
        "high   40000-40002  1     3     33%  none outside the ephemeral range",
      );
    } finally {
      await removeDir(root);
    }
  });

  test("an invalid registry: findings only, exit 1", () => {
    const file = "fixtures/validate/modes/registry.yaml";
    expect(runTask("report", ["--registry", file])).toEqual({
      stdout: [
        "Findings",
        `  ${file}:5:9 warning range-overlap range jobs overlaps api on 4050-4099`,
        `  ${file}:13:18 error depends-missing gateway depends on auth, which is not registered`,
        `  ${file}:16:11 error port-duplicate port 4000 is already used by gateway`,
        `  ${file}:22:11 error port-out-of-range port 4150 of reports is outside its stack api (4000-4099)`,
        "",
        "invalid: 3 error(s), 1 warning(s)",
        "",
      ].join("\n"),
      stderr: "",
      exitCode: 1,
    });
    const json = runTask("report", ["--registry", file, "--json"]);
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      registry: file,
      isValid: false,
      errors: 3,
      warnings: 1,
      diagnostics: [
        diagnostic(5, 9, "range-overlap", "warning", "range jobs overlaps api on 4050-4099", file),
        diagnostic(
          13,
          18,
          "depends-missing",
          "error",
          "gateway depends on auth, which is not registered",
          file,
        ),
        diagnostic(16, 11, "port-duplicate", "error", "port 4000 is already used by gateway", file),
        diagnostic(
          22,
          11,
          "port-out-of-range",
          "error",
          "port 4150 of reports is outside its stack api (4000-4099)",
          file,
        ),
      ],
      services: 0,
      stacks: [],
      protocols: {},
      deprecated: [],
    });
  });

  test("--help and a bad flag", () => {
    const help = runTask("report", ["--help"]);
    expect([help.exitCode, help.stderr, help.stdout.split("\n")[0]]).toEqual([
      0,
      "",
      "Usage: bun tasks/report.ts [options]",
    ]);
    expect(runTask("report", ["--jsn"])).toEqual({
      stdout: "",
      stderr: "report: unknown option --jsn (did you mean --json?); see --help\n",
      exitCode: 2,
    });
  });
});
