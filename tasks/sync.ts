/**
 * `npm run ports:sync`: renders every generated file from the registry and writes what changed.
 * `--check` writes nothing: it lists stale, missing and orphaned files with a diff and exits 1.
 */
import { isAbsolute, join, resolve } from "node:path";
import { EXIT, parseFlags, runTask, TASK_FLAGS } from "../lib/cli.ts";
import { type Diagnostic, formatDiagnostic } from "../lib/diagnostics.ts";
import { UsageError } from "../lib/errors.ts";
import { DEFAULT_REGISTRY_PATH, displayPath } from "../lib/load.ts";
import { OUTPUT_PATHS, renderAll } from "../lib/render.ts";
import { writeErr, writeOut } from "../lib/stdio.ts";
import { validateRegistryFile } from "../lib/validate.ts";
import { applyOutputs, compareOutputs, type FileState } from "../lib/write.ts";

export const HELP = `Usage: bun tasks/sync.ts [options]

Generates .env.shared, tools/compose/docker-compose.<stack>.yml, the docs page, the health script,
config/ports/index.json and config/ports/registry.schema.json from the registry.

Options:
  --check            write nothing; list stale, missing and orphaned files with a diff (exit 1 if any)
  --ref REF          with --check: check the registry and generated files as commit REF has them
                     (what is pushed, not the work tree)
  --pushed           with --check: check each commit a pre-push hook is given on stdin (git's
                     "<local ref> <local sha> <remote ref> <remote sha>" lines); HEAD without any
  --json             print one JSON document (SyncReport) instead of text
  --registry PATH    registry file, relative to the root (default: ${DEFAULT_REGISTRY_PATH})
  --root DIR         repository root (default: current directory)
  --quiet            print only problems
  -h, --help         show this help

Exit codes: 0 up to date or written, 1 invalid registry or (with --check) out of date, 2 usage or I/O error.`;

export type SyncOptions = { root: string; registryPath?: string; check?: boolean };

export type SyncFile = { path: string; state: FileState | "written" | "deleted"; diff?: string };

/** The `--json` document. */
export type SyncReport = {
  registry: string;
  check: boolean;
  isValid: boolean;
  isUpToDate: boolean;
  diagnostics: Diagnostic[];
  files: SyncFile[];
};

export async function run(options: SyncOptions): Promise<SyncReport> {
  const root = resolve(options.root);
  const registryPath = resolve(root, options.registryPath ?? DEFAULT_REGISTRY_PATH);
  const registryFile = displayPath(registryPath, root);
  const validation = await validateRegistryFile(registryPath, root);
  const check = options.check === true;
  if (!validation.registry) {
    return {
      registry: registryFile,
      check,
      isValid: false,
      isUpToDate: false,
      diagnostics: validation.diagnostics,
      files: [],
    };
  }
  const outputs = renderAll(validation.registry, { registryFile });
  const statuses = await compareOutputs(root, outputs, { withDiff: check });
  const changed = statuses.filter((status) => status.state !== "unchanged");
  if (!check && changed.length > 0) await applyOutputs(root, outputs, changed);
  const files: SyncFile[] = statuses.map((status) => {
    if (check || status.state === "unchanged") {
      return status.state === "unchanged"
        ? { path: status.path, state: status.state }
        : { path: status.path, state: status.state, diff: status.diff };
    }
    return { path: status.path, state: status.state === "orphaned" ? "deleted" : "written" };
  });
  return {
    registry: registryFile,
    check,
    isValid: true,
    isUpToDate: check ? changed.length === 0 : true,
    diagnostics: validation.diagnostics,
    files,
  };
}

export function formatSyncReport(report: SyncReport, isQuiet = false): { stdout: string; stderr: string } {
  const err: string[] = report.diagnostics.map(formatDiagnostic);
  const out: string[] = [];
  if (!report.isValid) {
    err.push(
      `sync: ${report.registry} has errors; nothing was written. Fix them, then run npm run ports:sync.`,
    );
    return { stdout: "", stderr: `${err.join("\n")}\n` };
  }
  const changed = report.files.filter((file) => file.state !== "unchanged");
  if (report.check) {
    if (changed.length === 0) {
      if (!isQuiet) out.push(`sync --check: ${report.files.length} generated files are up to date`);
    } else {
      for (const file of changed) {
        out.push(`${file.state.padEnd(8)} ${file.path}`);
      }
      for (const file of changed) if (file.diff) out.push("", file.diff.trimEnd());
      err.push(
        `sync --check: ${changed.length} generated file(s) out of date; run npm run ports:sync and commit the result`,
      );
    }
  } else if (!isQuiet) {
    for (const file of changed) out.push(`${file.state.padEnd(8)} ${file.path}`);
    out.push(
      changed.length === 0
        ? `sync: ${report.files.length} generated files already up to date`
        : `sync: ${changed.length} of ${report.files.length} generated files updated`,
    );
  }
  return { stdout: out.length ? `${out.join("\n")}\n` : "", stderr: err.length ? `${err.join("\n")}\n` : "" };
}

export function exitCodeOf(report: SyncReport): number {
  return report.isValid && report.isUpToDate ? EXIT.ok : EXIT.findings;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    check: { type: "boolean" },
    ref: { type: "string" },
    pushed: { type: "boolean" },
    quiet: { type: "boolean" },
    ...TASK_FLAGS,
  });
  if (values.help) {
    await writeOut(`${HELP}\n`);
    return EXIT.ok;
  }
  const root = resolve(values.root ?? process.cwd());
  let report: SyncReport;
  if (values.pushed) {
    if (!values.check) throw new UsageError("--pushed needs --check: sync writes only the work tree");
    if (values.ref !== undefined) throw new UsageError("pass either --ref or --pushed");
    report = await checkPushed(root, values.registry);
  } else if (values.ref !== undefined) {
    if (!values.check) throw new UsageError("--ref needs --check: sync writes only the work tree");
    report = await checkCommitted(root, values.ref, values.registry);
  } else {
    report = await run({ root, registryPath: values.registry, check: values.check });
  }
  if (values.json) {
    await writeOut(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const { stdout, stderr } = formatSyncReport(report, values.quiet);
    await writeOut(stdout);
    await writeErr(stderr);
  }
  return exitCodeOf(report);
}

/**
 * `--check` on each commit a push sends: git gives a pre-push hook one line per ref on stdin. The
 * report of the first commit that is out of date, else of the last one. By hand (a terminal, or
 * nothing on stdin) the commit checked is HEAD.
 */
async function checkPushed(root: string, registryPath: string | undefined): Promise<SyncReport> {
  const { isTerminalByBinding } = await import("../lib/colors.ts");
  const input = isTerminalByBinding(0) === true ? "" : await Bun.stdin.text();
  const commits = [...new Set(parsePushLines(input))];
  let report: SyncReport | undefined;
  for (const commit of commits.length > 0 ? commits : ["HEAD"]) {
    report = await checkCommitted(root, commit, registryPath);
    if (!report.isValid || !report.isUpToDate) return report;
  }
  return report as SyncReport;
}

/** The local commits of git's pre-push lines; a deletion (all zeros) pushes none. */
export function parsePushLines(input: string): string[] {
  const commits: string[] = [];
  for (const line of input.split("\n")) {
    const localSha = line.trim().split(/\s+/)[1];
    if (localSha && /^[0-9a-f]{40,64}$/.test(localSha) && !/^0+$/.test(localSha)) commits.push(localSha);
  }
  return commits;
}

/** `--check` on the files as commit `ref` has them, exported to a temporary root. */
async function checkCommitted(
  root: string,
  ref: string,
  registryPath: string | undefined,
): Promise<SyncReport> {
  const registry = registryPath ?? DEFAULT_REGISTRY_PATH;
  if (isAbsolute(registry)) throw new UsageError("--ref needs a --registry inside the repository");
  // Loaded here: a plain sync never pays for them at start-up.
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { exportCommittedFiles } = await import("../lib/hook-git.ts");
  const temporary = await mkdtemp(join(tmpdir(), "ports-sync-ref-"));
  try {
    const paths = [registry, ...Object.values(OUTPUT_PATHS)];
    await exportCommittedFiles(root, ref, paths, temporary);
    return await run({ root: temporary, registryPath: registry, check: true });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
}

if (import.meta.main) runTask("sync", main);
