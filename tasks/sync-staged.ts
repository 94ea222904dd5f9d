/**
 * The pre-commit step for a staged registry: validate it, regenerate every file from it, and stage
 * the generated files, so the commit that changes the registry also carries what it generates.
 */
import { resolve } from "node:path";
import { EXIT, parseFlags, runTask, TASK_FLAGS } from "../lib/cli.ts";
import { countBySeverity, type Diagnostic, formatDiagnostic } from "../lib/diagnostics.ts";
import { UsageError } from "../lib/errors.ts";
import {
  findGitTopLevel,
  hasUnstagedChanges,
  isPathLimitedCommit,
  listUnstagedPaths,
  stagePaths,
} from "../lib/hook-git.ts";
import { DEFAULT_REGISTRY_PATH, displayPath } from "../lib/load.ts";
import { writeErr, writeOut } from "../lib/stdio.ts";
import { run as runSync } from "./sync.ts";

export const HELP = `Usage: bun tasks/sync-staged.ts [options]

Run by the pre-commit hook when ${DEFAULT_REGISTRY_PATH} is staged: checks that the staged registry
is the one on disk, validates it, regenerates every file from it and stages the generated files.

Options:
  --json             print one JSON document (SyncStagedReport) instead of text
  --registry PATH    registry file, relative to the root (default: ${DEFAULT_REGISTRY_PATH})
  --root DIR         repository root (default: current directory)
  -h, --help         show this help

Exit codes: 0 valid and staged, 1 invalid registry or unstaged registry changes, 2 usage or I/O error.`;

export type SyncStagedOptions = {
  root: string;
  registryPath?: string;
  /** The hook's environment; `GIT_INDEX_FILE` tells a `git commit <paths>` apart. */
  env?: Record<string, string | undefined>;
};

/** The `--json` document. */
export type SyncStagedReport = {
  registry: string;
  /** False when the registry on disk differs from the staged one (a partial `git add -p`). */
  isStagedAsOnDisk: boolean;
  isValid: boolean;
  diagnostics: Diagnostic[];
  /** Generated files whose new content this run added to the index, sorted. */
  staged: string[];
  /** `git commit <paths>`: the commit carries `staged`, the user's index keeps the old copies. */
  isPathLimitedCommit: boolean;
};

export async function run(options: SyncStagedOptions): Promise<SyncStagedReport> {
  const root = resolve(options.root);
  if (findGitTopLevel(root) === undefined) {
    throw new UsageError(`${root} is not inside a git work tree; this step runs from the pre-commit hook`);
  }
  const registryPath = resolve(root, options.registryPath ?? DEFAULT_REGISTRY_PATH);
  const registry = displayPath(registryPath, root);
  const isPathLimited = isPathLimitedCommit(options.env ?? {});
  if (hasUnstagedChanges(root, registry)) {
    return {
      registry,
      isStagedAsOnDisk: false,
      isValid: false,
      diagnostics: [],
      staged: [],
      isPathLimitedCommit: isPathLimited,
    };
  }
  const sync = await runSync({ root, registryPath });
  const base = {
    registry,
    isStagedAsOnDisk: true,
    isValid: sync.isValid,
    diagnostics: sync.diagnostics,
    isPathLimitedCommit: isPathLimited,
  };
  if (!sync.isValid) return { ...base, staged: [] };
  const toStage = listUnstagedPaths(
    root,
    sync.files.map((file) => file.path),
  );
  stagePaths(root, toStage);
  return { ...base, staged: toStage };
}

export function formatSyncStagedReport(report: SyncStagedReport): { stdout: string; stderr: string } {
  const { registry } = report;
  if (!report.isStagedAsOnDisk) {
    return {
      stdout: "",
      stderr:
        `sync-staged: ${registry} has unstaged changes, so the commit would carry a registry other than the one checked.\n` +
        `sync-staged: fix: git add ${registry} (or git stash --keep-index), then commit again.\n`,
    };
  }
  const lines = report.diagnostics.map(formatDiagnostic);
  if (!report.isValid) {
    const { errors } = countBySeverity(report.diagnostics);
    lines.push(
      `sync-staged: ${registry} has ${errors} error(s); nothing was generated or staged.`,
      `sync-staged: fix: correct the line(s) above (npm run ports:validate explains each rule), git add ${registry}, commit again.`,
    );
    return { stdout: "", stderr: `${lines.join("\n")}\n` };
  }
  const summary =
    report.staged.length === 0
      ? `sync-staged: ${registry} is valid; the generated files in the index already match it`
      : `sync-staged: ${registry} is valid; regenerated and staged ${report.staged.length} file(s): ${report.staged.join(", ")}`;
  if (report.isPathLimitedCommit && report.staged.length > 0) {
    lines.push(
      "sync-staged: note: this commit names its paths (git commit <paths>), so it carries the files above " +
        "but your index keeps their old copies. After the commit, run:",
      `  git add -- ${report.staged.join(" ")}`,
    );
  }
  return { stdout: `${summary}\n`, stderr: lines.length > 0 ? `${lines.join("\n")}\n` : "" };
}

export function exitCodeOf(report: SyncStagedReport): number {
  return report.isStagedAsOnDisk && report.isValid ? EXIT.ok : EXIT.findings;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, TASK_FLAGS);
  if (values.help) {
    await writeOut(`${HELP}\n`);
    return EXIT.ok;
  }
  const report = await run({
    root: values.root ?? process.cwd(),
    registryPath: values.registry,
    env: process.env,
  });
  if (values.json) {
    await writeOut(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const { stdout, stderr } = formatSyncStagedReport(report);
    await writeOut(stdout);
    await writeErr(stderr);
  }
  return exitCodeOf(report);
}

if (import.meta.main) runTask("sync-staged", main);
