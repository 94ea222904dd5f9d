/**
 * One fixture tree per rule (fixtures/scan-hardcoded/<case>/), scanned as a user runs the task;
 * each tree's expected.txt is the reviewed text report.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ScanReport } from "../../tasks/scan-hardcoded.ts";
import { copyFixture, FIXTURES, removeTempRoots, runScan } from "./support.ts";

afterAll(removeTempRoots);

const CASES = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe("fixture tree per rule", () => {
  test("every rule id has a fixture tree", () => {
    expect(CASES).toEqual([
      "allow-missing-reason",
      "any-address-port",
      "comments",
      "compose-port-mismatch",
      "compose-port-unknown",
      "docker-host-port",
      "fallback-port",
      "generated-exempt",
      "ipv6-loopback-port",
      "localhost-port",
      "loopback-port",
      "port-assignment",
      "published-port",
      "unregistered-port",
    ]);
  });

  for (const name of CASES) {
    test(`${name}: text report, exit 1`, () => {
      const root = copyFixture(name);
      const run = runScan(["--root", root], root);
      expect({ stdout: run.stdout, stderr: run.stderr, exitCode: run.exitCode }).toEqual({
        stdout: readFileSync(join(FIXTURES, name, "expected.txt"), "utf8"),
        stderr: "",
        exitCode: 1,
      });
    });
  }
});

describe("JSON findings", () => {
  test("a registered port names its service and the variable to use; an unregistered one its own rule", () => {
    const root = copyFixture("localhost-port");
    const run = runScan(["--root", root, "--json"], root);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(1);
    const report = JSON.parse(run.stdout) as ScanReport;
    const { findings, ...rest } = report;
    expect(rest).toEqual({
      version: 1,
      discovery: "glob",
      registry: { file: "config/ports/registry.yaml", status: "valid", services: 13 },
      filesScanned: 2,
      skipped: {
        ignored: 0,
        generated: 0,
        binary: 0,
        "too-large": 0,
        symlink: 0,
        "outside-root": 0,
        special: 0,
        unreadable: 0,
      },
      suppressed: { inline: 0, baseline: 0 },
      staleBaseline: 0,
    });
    expect(findings[1]).toEqual({
      file: "src/client.ts",
      line: 1,
      col: 42,
      endCol: 46,
      rule: "localhost-port",
      kind: "localhost-port",
      port: 4007,
      message:
        "localhost:4007 hardcodes the port of telegram-mtproto; use process.env.TELEGRAM_MTPROTO_URL instead (from the host: localhost and process.env.TELEGRAM_MTPROTO_PORT)",
      service: "telegram-mtproto",
      replacement: "process.env.TELEGRAM_MTPROTO_URL",
      snippet: 'export const mtproto = "http://localhost:4007/health";',
      fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });

  test("the unregistered rule keeps the pattern as its kind", () => {
    const root = copyFixture("unregistered-port");
    const report = JSON.parse(runScan(["--root", root, "--format", "json"], root).stdout) as ScanReport;
    expect(report.findings.map((finding) => [finding.rule, finding.kind, finding.port])).toEqual([
      ["unregistered-port", "port-assignment", 8081],
      ["unregistered-port", "localhost-port", 3000],
      ["unregistered-port", "loopback-port", 9090],
      ["unregistered-port", "localhost-port", 5432],
    ]);
  });
});
