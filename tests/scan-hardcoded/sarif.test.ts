/**
 * `--format sarif` validates against the official SARIF 2.1.0 JSON schema (draft-04, shipped by
 * @microsoft/jest-sarif), checked with ajv offline.
 */
import { afterAll, describe, expect, test } from "bun:test";
import sarifSchema from "@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json" with { type: "json" };
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import type { SarifLog } from "../../lib/scan-sarif.ts";
import type { ScanReport } from "../../tasks/scan-hardcoded.ts";
import { copyFixture, removeTempRoots, runScan } from "./support.ts";

afterAll(removeTempRoots);

// The schema's patterns are ECMA-262 without the u flag (one has a bare "]").
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(sarifSchema);

describe("SARIF", () => {
  for (const name of ["port-assignment", "compose-port-mismatch", "allow-missing-reason"]) {
    test(`${name}: a valid SARIF 2.1.0 log with one result per finding`, () => {
      const root = copyFixture(name);
      const run = runScan(["--format", "sarif"], root);
      expect(run.stderr).toBe("");
      expect(run.exitCode).toBe(1);
      const log = JSON.parse(run.stdout) as SarifLog;
      const isValid = validate(log);
      expect(validate.errors ?? []).toEqual([]);
      expect(isValid).toBe(true);
      const report = JSON.parse(runScan(["--json"], root).stdout) as ScanReport;
      const [sarifRun] = log.runs;
      expect(
        sarifRun?.results.map((result) => [
          result.ruleId,
          result.locations[0]?.physicalLocation.artifactLocation.uri,
          result.locations[0]?.physicalLocation.region.startLine,
          result.partialFingerprints["portGovernance/v1"],
        ]),
      ).toEqual(
        report.findings.map((finding) => [finding.rule, finding.file, finding.line, finding.fingerprint]),
      );
      for (const result of sarifRun?.results ?? []) {
        expect(sarifRun?.tool.driver.rules[result.ruleIndex]?.id).toBe(result.ruleId);
        expect(result.level).toBe("error");
      }
    });
  }

  test("--warn reports warning-level results and exits 0; paths are relative, percent-encoded URIs", () => {
    const root = copyFixture("localhost-port");
    const { writeFileSync, mkdirSync } = require("node:fs") as typeof import("node:fs");
    mkdirSync(`${root}/odd dir`);
    writeFileSync(`${root}/odd dir/ü#1.sh`, "curl localhost:4007\n");
    const run = runScan(["--format", "sarif", "--warn"], root);
    expect(run.exitCode).toBe(0);
    const log = JSON.parse(run.stdout) as SarifLog;
    expect(validate(log)).toBe(true);
    const results = log.runs[0]?.results ?? [];
    expect(new Set(results.map((result) => result.level))).toEqual(new Set(["warning"]));
    expect(results[0]?.locations[0]?.physicalLocation.artifactLocation).toEqual({
      uri: "odd%20dir/%C3%BC%231.sh",
      uriBaseId: "%SRCROOT%",
    });
  });

  test("the schema check is not vacuous: a broken log fails it", () => {
    const root = copyFixture("docker-host-port");
    const log = JSON.parse(runScan(["--format", "sarif"], root).stdout) as SarifLog;
    expect(validate(log)).toBe(true);
    const broken = structuredClone(log) as unknown as { runs: { results: { level: string }[] }[] };
    (broken.runs[0]?.results[0] as { level: string }).level = "fatal";
    expect(validate(broken)).toBe(false);
    expect(validate({ ...log, version: "2.0.0" })).toBe(false);
  });

  test("a clean tree is a valid log with no results", () => {
    const root = copyFixture("localhost-port");
    const { rmSync } = require("node:fs") as typeof import("node:fs");
    rmSync(`${root}/src`, { recursive: true });
    rmSync(`${root}/scripts`, { recursive: true });
    const run = runScan(["--format", "sarif"], root);
    expect(run.exitCode).toBe(0);
    const log = JSON.parse(run.stdout) as SarifLog;
    expect(validate(log)).toBe(true);
    expect(log.runs[0]?.results).toEqual([]);
  });
});
