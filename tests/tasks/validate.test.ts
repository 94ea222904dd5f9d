/**
 * `bun tasks/validate.ts` as a user runs it, and the real-world TradingSystem registry loading with
 * exactly its expected diagnostics.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Diagnostic } from "../../lib/diagnostics.ts";
import { validateRegistryFile } from "../../lib/validate.ts";
import type { ValidateReport } from "../../tasks/validate.ts";
import { diagnostic, REPO, runTask, TRADINGSYSTEM } from "../core/support.ts";

const TS_FILE = "fixtures/validate/tradingsystem/registry.yaml";
const MODES_FILE = "fixtures/validate/modes/registry.yaml";

const TRADINGSYSTEM_DIAGNOSTICS: Diagnostic[] = [
  diagnostic(
    10,
    26,
    "range-overlap",
    "warning",
    "range external-integrations overlaps automation on 4000-4099",
    TS_FILE,
  ),
  diagnostic(11, 12, "range-overlap", "warning", "range db-core overlaps automation on 5000-5499", TS_FILE),
  diagnostic(12, 14, "range-overlap", "warning", "range messaging overlaps automation on 5600-5699", TS_FILE),
  diagnostic(
    17,
    25,
    "range-overlap",
    "warning",
    "range automation-platforms overlaps devtools on 8180-8299",
    TS_FILE,
  ),
  diagnostic(
    19,
    15,
    "range-overlap",
    "warning",
    "range monitoring overlaps dashboard-gateway on 9000-9099",
    TS_FILE,
  ),
  diagnostic(
    381,
    17,
    "health-fragment",
    "warning",
    "endpoint /#/status of alertmanager has a #fragment, which is never sent; the check requests /",
    TS_FILE,
  ),
];

describe("the real-world TradingSystem registry", () => {
  test("loads valid with exactly five range overlaps and one fragment warning", async () => {
    const result = await validateRegistryFile(TRADINGSYSTEM, REPO);
    expect(result.diagnostics).toEqual(TRADINGSYSTEM_DIAGNOSTICS);
    expect(result.isValid).toBe(true);
    expect(result.registry?.services.length).toBe(33);
  });

  test("validate --json prints one ValidateReport and exits 0", () => {
    const result = runTask("validate", ["--registry", TS_FILE, "--json"]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const report: ValidateReport = {
      registry: TS_FILE,
      mode: "all",
      isValid: true,
      errors: 0,
      warnings: 6,
      diagnostics: TRADINGSYSTEM_DIAGNOSTICS,
    };
    expect(JSON.parse(result.stdout)).toEqual(report);
    expect(result.stdout).toBe(`${JSON.stringify(report, null, 2)}\n`);
  });

  test("validate prints one line per warning and a summary", () => {
    expect(runTask("validate", ["--registry", TS_FILE])).toEqual({
      stdout: [
        `${TS_FILE}:10:26 warning range-overlap range external-integrations overlaps automation on 4000-4099`,
        `${TS_FILE}:11:12 warning range-overlap range db-core overlaps automation on 5000-5499`,
        `${TS_FILE}:12:14 warning range-overlap range messaging overlaps automation on 5600-5699`,
        `${TS_FILE}:17:25 warning range-overlap range automation-platforms overlaps devtools on 8180-8299`,
        `${TS_FILE}:19:15 warning range-overlap range monitoring overlaps dashboard-gateway on 9000-9099`,
        `${TS_FILE}:381:17 warning health-fragment endpoint /#/status of alertmanager has a #fragment, which is never sent; the check requests /`,
        `${TS_FILE}: 0 error(s), 6 warning(s)`,
        "",
      ].join("\n"),
      stderr: "",
      exitCode: 0,
    });
  });
});

describe("validate", () => {
  test("the default registry is valid", () => {
    expect(runTask("validate", [])).toEqual({
      stdout: "config/ports/registry.yaml: valid\n",
      stderr: "",
      exitCode: 0,
    });
  });

  test("--mode all reports every rule, exit 1", () => {
    expect(runTask("validate", ["--registry", MODES_FILE])).toEqual({
      stdout: [
        `${MODES_FILE}:5:9 warning range-overlap range jobs overlaps api on 4050-4099`,
        `${MODES_FILE}:13:18 error depends-missing gateway depends on auth, which is not registered`,
        `${MODES_FILE}:16:11 error port-duplicate port 4000 is already used by gateway`,
        `${MODES_FILE}:22:11 error port-out-of-range port 4150 of reports is outside its stack api (4000-4099)`,
        `${MODES_FILE}: 3 error(s), 1 warning(s)`,
        "",
      ].join("\n"),
      stderr: "",
      exitCode: 1,
    });
  });

  test("--mode duplicates (ports:duplicates) reports only duplicates", () => {
    expect(runTask("validate", ["--registry", MODES_FILE, "--mode", "duplicates"])).toEqual({
      stdout: [
        `${MODES_FILE}:16:11 error port-duplicate port 4000 is already used by gateway`,
        `${MODES_FILE} (duplicates): 1 error(s), 0 warning(s)`,
        "",
      ].join("\n"),
      stderr: "",
      exitCode: 1,
    });
  });

  test("--mode ranges --json (ports:check-ranges) reports only range rules", () => {
    const result = runTask("validate", ["--registry", MODES_FILE, "--mode", "ranges", "--json"]);
    expect({ ...result, stdout: JSON.parse(result.stdout) }).toEqual({
      stdout: {
        registry: MODES_FILE,
        mode: "ranges",
        isValid: false,
        errors: 1,
        warnings: 1,
        diagnostics: [
          diagnostic(5, 9, "range-overlap", "warning", "range jobs overlaps api on 4050-4099", MODES_FILE),
          diagnostic(
            22,
            11,
            "port-out-of-range",
            "error",
            "port 4150 of reports is outside its stack api (4000-4099)",
            MODES_FILE,
          ),
        ],
      },
      stderr: "",
      exitCode: 1,
    });
  });

  test("--help prints usage with the exit codes", () => {
    const result = runTask("validate", ["-h"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout.startsWith("Usage: bun tasks/validate.ts [options]\n")).toBe(true);
    expect(result.stdout).toContain("Exit codes: 0 clean or warnings only, 1 errors, 2 usage or I/O error.");
  });

  test("usage errors exit 2 with one line", () => {
    expect(runTask("validate", ["--mode", "bogus"])).toEqual({
      stdout: "",
      stderr: 'validate: --mode must be one of all, duplicates, ranges, got "bogus"\n',
      exitCode: 2,
    });
    expect(runTask("validate", ["--registry"])).toEqual({
      stdout: "",
      stderr: "validate: --registry needs a value; see --help\n",
      exitCode: 2,
    });
  });

  test("colour only when forced on and never under NO_COLOR or CI", () => {
    const args = ["--registry", MODES_FILE, "--mode", "duplicates"];
    const forced = runTask("validate", args, REPO, { NO_COLOR: undefined, FORCE_COLOR: "1" });
    expect(forced.stdout).toContain("\u001b[31merror\u001b[39m");
    const plain = runTask("validate", args);
    const ci = runTask("validate", args, REPO, { NO_COLOR: undefined, FORCE_COLOR: "1", CI: "true" });
    expect(ci.stdout).toBe(plain.stdout);
    expect(plain.stdout).not.toContain("\u001b[");
    expect(
      runTask("validate", [...args, "--json"], REPO, { NO_COLOR: undefined, FORCE_COLOR: "1" }).stdout,
    ).not.toContain("\u001b[");
  });

  test("colour on a real terminal, none when stdout is a file", () => {
    const args = ["--registry", MODES_FILE, "--mode", "duplicates"];
    const command = [process.execPath, join(REPO, "tasks", "validate.ts"), ...args].join(" ");
    const env: Record<string, string | undefined> = { ...process.env, TERM: "xterm" };
    for (const name of ["NO_COLOR", "CI", "FORCE_COLOR"]) delete env[name];
    // script(1) gives the task a pseudo-terminal as stdout.
    const onTerminal = Bun.spawnSync(["script", "-qec", command, "/dev/null"], { cwd: REPO, env });
    expect(onTerminal.stdout.toString()).toContain("\u001b[31merror\u001b[39m");
    const dir = mkdtempSync(join(tmpdir(), "ports-colour-"));
    try {
      const out = join(dir, "out.txt");
      expect(Bun.spawnSync(["sh", "-c", `${command} > ${out}`], { cwd: REPO, env }).exitCode).toBe(1);
      const text = readFileSync(out, "utf8");
      expect(text).toContain("error port-duplicate");
      expect(text).not.toContain("\u001b[");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the terminal check: a pseudo-terminal is one, /dev/null (a character device) and a pipe are not", () => {
    const probe = `import { isTerminalByBinding } from "${join(REPO, "lib", "colors.ts")}"; process.stderr.write(String(isTerminalByBinding(1)));`;
    const run = (shell: string) =>
      Bun.spawnSync(["sh", "-c", shell], { env: { ...process.env, PROBE: probe } })
        .stderr.toString()
        .trim();
    const bun = process.execPath;
    expect(run(`"${bun}" -e "$PROBE" > /dev/null`)).toBe("false");
    expect(run(`"${bun}" -e "$PROBE" | cat`)).toBe("false");
    const onTerminal = Bun.spawnSync(["script", "-qec", `"${bun}" -e "$PROBE"`, "/dev/null"], {
      env: { ...process.env, PROBE: probe },
    });
    expect(onTerminal.stdout.toString().trim()).toBe("true");
  });
});
