/**
 * Baseline round trip: record, scan clean, survive unrelated edits, catch new ports, count stale
 * entries. The file itself holds no ports, so scanning it finds nothing.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BaselineFile } from "../../lib/scan-baseline.ts";
import type { ScanReport } from "../../tasks/scan-hardcoded.ts";
import { copyFixture, removeTempRoots, runScan } from "./support.ts";

afterAll(removeTempRoots);

const BASELINE = "config/ports/scan-baseline.json";

function prepend(root: string, path: string, lines: string): void {
  const file = join(root, path);
  writeFileSync(file, lines + readFileSync(file, "utf8"));
}

describe("baseline", () => {
  test("round trip: record, scan clean, survive shifts, report only new ports, count stale entries", () => {
    const root = copyFixture("localhost-port");
    const update = runScan(["--update-baseline"], root);
    expect(update.exitCode).toBe(0);
    expect(update.stderr).toBe("");
    expect(update.stdout.split("\n").slice(-2)).toEqual([`wrote 5 finding(s) to ${BASELINE}`, ""]);
    const file = JSON.parse(readFileSync(join(root, BASELINE), "utf8")) as BaselineFile;
    expect(file.version).toBe(2);
    expect(file.findings.map((entry) => [entry.file, entry.kind])).toEqual([
      ["scripts/dev.sh", "localhost-port"],
      ["src/client.ts", "localhost-port"],
      ["src/client.ts", "localhost-port"],
      ["src/client.ts", "localhost-port"],
      ["src/client.ts", "localhost-port"],
    ]);

    expect(runScan(["--baseline", BASELINE], root)).toEqual({
      stdout: "0 hardcoded port(s) in 0 file(s) (scanned 2 file(s); 5 in the baseline)\n",
      stderr: "",
      exitCode: 0,
    });

    prepend(root, "src/client.ts", "// a new header\n\n/* and a block */\n");
    prepend(root, "scripts/dev.sh", "# moved down\n");
    expect(runScan(["--baseline", BASELINE], root).exitCode).toBe(0);

    writeFileSync(
      join(root, "src/client.ts"),
      readFileSync(join(root, "src/client.ts"), "utf8").replace(
        'export const legacy = "http://localhost:3403/search";\n',
        'export const added = "http://localhost:4032";\n',
      ),
    );
    const after = runScan(["--baseline", BASELINE, "--json"], root);
    const report = JSON.parse(after.stdout) as ScanReport;
    expect({
      exitCode: after.exitCode,
      findings: report.findings.map((finding) => `${finding.file}:${finding.line} ${finding.port}`),
      baselined: report.suppressed.baseline,
      stale: report.staleBaseline,
    }).toEqual({ exitCode: 1, findings: ["src/client.ts:6 4032"], baselined: 4, stale: 1 });
  });

  test("registering a port (or losing the registry) keeps its findings baselined: the rule changes, the fingerprint does not", () => {
    const root = copyFixture("localhost-port");
    const registry = join(root, "config/ports/registry.yaml");
    renameSync(registry, `${registry}.away`);
    const unregistered = JSON.parse(runScan(["--json"], root).stdout) as ScanReport;
    expect(new Set(unregistered.findings.map((finding) => finding.rule))).toEqual(
      new Set(["unregistered-port"]),
    );
    expect(runScan(["--update-baseline"], root).exitCode).toBe(0);
    renameSync(`${registry}.away`, registry);
    const registered = JSON.parse(runScan(["--json"], root).stdout) as ScanReport;
    expect(registered.findings.map((finding) => finding.rule)).toContain("localhost-port");
    expect(registered.findings.map((finding) => finding.fingerprint)).toEqual(
      unregistered.findings.map((finding) => finding.fingerprint),
    );
    expect(runScan(["--baseline", BASELINE], root)).toEqual({
      stdout: "0 hardcoded port(s) in 0 file(s) (scanned 2 file(s); 5 in the baseline)\n",
      stderr: "",
      exitCode: 0,
    });
  });

  test("compose drift keeps its fingerprint when the registry changes what it is (drift or a published port)", () => {
    const root = copyFixture("compose-port-unknown");
    const registry = join(root, "config/ports/registry.yaml");
    renameSync(registry, `${registry}.away`);
    const without = JSON.parse(runScan(["--json"], root).stdout) as ScanReport;
    expect(runScan(["--update-baseline"], root).exitCode).toBe(0);
    renameSync(`${registry}.away`, registry);
    const withRegistry = JSON.parse(runScan(["--json"], root).stdout) as ScanReport;
    expect(new Set(withRegistry.findings.map((finding) => finding.kind))).not.toEqual(
      new Set(without.findings.map((finding) => finding.kind)),
    );
    const run = runScan(["--baseline", BASELINE, "--json"], root);
    const report = JSON.parse(run.stdout) as ScanReport;
    expect([run.exitCode, report.findings.length, report.staleBaseline]).toEqual([
      0,
      0,
      without.findings.length - withRegistry.findings.length,
    ]);
  });

  test("a baseline of the earlier, rule-based version asks to be recorded again, and --update-baseline replaces it", () => {
    const root = copyFixture("localhost-port");
    writeFileSync(
      join(root, BASELINE),
      `${JSON.stringify({ version: 1, findings: [{ fingerprint: "0".repeat(32), rule: "localhost-port", file: "src/client.ts" }] })}\n`,
    );
    expect(runScan(["--baseline", BASELINE], root)).toEqual({
      stdout: "",
      stderr: `scan-hardcoded: ${BASELINE}: written by an earlier scanner, whose fingerprints changed when a port was registered; record it again with --update-baseline\n`,
      exitCode: 2,
    });
    expect(runScan(["--update-baseline", "--baseline", BASELINE], root).exitCode).toBe(0);
    expect(runScan(["--baseline", BASELINE], root).exitCode).toBe(0);
  });

  test("--update-baseline never overwrites a file that is not a baseline", () => {
    const root = copyFixture("localhost-port");
    const registry = readFileSync(join(root, "config/ports/registry.yaml"), "utf8");
    expect(runScan(["--update-baseline", "--baseline", "config/ports/registry.yaml"], root)).toEqual({
      stdout: "",
      stderr:
        "scan-hardcoded: config/ports/registry.yaml: exists and is not a scanner baseline; refusing to overwrite it\n",
      exitCode: 2,
    });
    expect(readFileSync(join(root, "config/ports/registry.yaml"), "utf8")).toBe(registry);
    expect(runScan(["--update-baseline", "--baseline", "src"], root).stderr).toBe(
      "scan-hardcoded: src: exists and is not a scanner baseline; refusing to overwrite it\n",
    );
    // A scan report has a version and findings too, but it is not a baseline.
    writeFileSync(join(root, "report.json"), runScan(["--json"], root).stdout);
    expect(runScan(["--update-baseline", "--baseline", "report.json"], root).exitCode).toBe(2);
    expect(runScan(["--baseline", "report.json"], root).stderr).toBe(
      "scan-hardcoded: report.json: not a scanner baseline (expected version 2 and a findings list)\n",
    );
    // JSON with comments (tsconfig.json) does not parse, and is not a baseline either.
    writeFileSync(join(root, "tsconfig.json"), '{\n  // strict\n  "compilerOptions": {}\n}\n');
    expect(runScan(["--update-baseline", "--baseline", "tsconfig.json"], root).exitCode).toBe(2);
    expect(readFileSync(join(root, "tsconfig.json"), "utf8")).toContain("// strict");
  });

  test("--update-baseline repairs a baseline that no longer parses (merge-conflict markers)", () => {
    const root = copyFixture("localhost-port");
    expect(runScan(["--update-baseline"], root).exitCode).toBe(0);
    const recorded = readFileSync(join(root, BASELINE), "utf8");
    writeFileSync(join(root, BASELINE), `<<<<<<< ours\n${recorded}=======\n${recorded}>>>>>>> theirs\n`);
    expect(runScan(["--baseline", BASELINE], root).exitCode).toBe(2);
    expect(runScan(["--update-baseline"], root).exitCode).toBe(0);
    expect(readFileSync(join(root, BASELINE), "utf8")).toBe(recorded);
  });

  test("the baseline file is never scanned and the repository's settings can name it", () => {
    const root = copyFixture("localhost-port");
    writeFileSync(join(root, "config/ports/scan.yaml"), `baseline: ${BASELINE}\n`);
    expect(runScan(["--update-baseline"], root).exitCode).toBe(0);
    const run = runScan([], root);
    expect(run).toEqual({
      stdout: "0 hardcoded port(s) in 0 file(s) (scanned 2 file(s); 5 in the baseline)\n",
      stderr: "",
      exitCode: 0,
    });
  });

  test("a partial scan (paths or --staged) reports no stale entries", () => {
    const root = copyFixture("localhost-port");
    expect(runScan(["--update-baseline"], root).exitCode).toBe(0);
    expect(runScan(["--baseline", BASELINE, "scripts"], root)).toEqual({
      stdout: "0 hardcoded port(s) in 0 file(s) (scanned 1 file(s); 1 in the baseline)\n",
      stderr: "",
      exitCode: 0,
    });
  });

  test("a missing or malformed baseline is one line and exit 2", () => {
    const root = copyFixture("localhost-port");
    expect(runScan(["--baseline", "nope.json"], root)).toEqual({
      stdout: "",
      stderr: "scan-hardcoded: nope.json: no baseline yet; create it with --update-baseline\n",
      exitCode: 2,
    });
    writeFileSync(join(root, "bad.json"), '{"version": 9}');
    expect(runScan(["--baseline", "bad.json"], root)).toEqual({
      stdout: "",
      stderr: "scan-hardcoded: bad.json: not a scanner baseline (expected version 2 and a findings list)\n",
      exitCode: 2,
    });
  });
});
