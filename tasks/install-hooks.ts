/**
 * The `prepare` script: installs the git hooks from lefthook.yml on `npm ci` / `bun install`.
 * It never fails an install: under CI, outside a git repository or without lefthook it says why
 * it skipped; if lefthook itself fails it prints a warning and the command to retry.
 */
import { resolve } from "node:path";
import { describeFailure, EXIT, parseFlags } from "../lib/cli.ts";
import { detectHookInstall, runLefthookInstall } from "../lib/hook-install.ts";

export const HELP = `Usage: bun tasks/install-hooks.ts [options]

Installs the pre-commit and pre-push hooks from lefthook.yml (run by npm ci through "prepare").
Skips, and says why, under CI=true, with LEFTHOOK=0, outside a git repository, or without lefthook.

Options:
  --json             print one JSON document (InstallHooksReport) instead of text
  --root DIR         repository root (default: current directory)
  -h, --help         show this help

Exit codes: 0 installed, skipped or failed with a warning (an install never fails because of hooks),
2 usage error.`;

export type InstallHooksOptions = { root: string; env: Record<string, string | undefined> };

/** The `--json` document. */
export type InstallHooksReport =
  | { status: "installed" }
  | { status: "skipped"; reason: string }
  | { status: "failed"; reason: string };

export function run(options: InstallHooksOptions): InstallHooksReport {
  const root = resolve(options.root);
  const plan = detectHookInstall(root, options.env);
  if (plan.action === "skip") return { status: "skipped", reason: plan.reason };
  const result = runLefthookInstall(root, plan.lefthook, options.env);
  if (result.exitCode === 0) return { status: "installed" };
  return { status: "failed", reason: result.output || `lefthook install exited ${result.exitCode}` };
}

export function formatInstallHooksReport(report: InstallHooksReport): { stdout: string; stderr: string } {
  switch (report.status) {
    case "installed":
      return { stdout: "hooks: installed pre-commit and pre-push from lefthook.yml\n", stderr: "" };
    case "skipped":
      return { stdout: `hooks: not installed: ${report.reason}\n`, stderr: "" };
    case "failed":
      return {
        stdout: "",
        stderr:
          `hooks: warning: lefthook install failed, so commits are not checked locally:\n${report.reason}\n` +
          "hooks: fix the cause above, then run: npx lefthook install\n",
      };
  }
}

function main(argv: string[]): number {
  const { values } = parseFlags(argv, {
    json: { type: "boolean" },
    root: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
  const report = run({ root: values.root ?? process.cwd(), env: process.env });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const { stdout, stderr } = formatInstallHooksReport(report);
    process.stdout.write(stdout);
    process.stderr.write(stderr);
  }
  return EXIT.ok;
}

if (import.meta.main) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    const failure = describeFailure("install-hooks", error);
    console.error(failure.text);
    process.exitCode = failure.exitCode;
  }
}
