/**
 * `npm run ports:validate` (and `ports:duplicates`, `ports:check-ranges` through --mode):
 * schema and business rules, every problem as `path:line:col severity rule-id message`.
 */
import { EXIT, parseChoice, parseFlags, runTask, TASK_FLAGS } from "../lib/cli.ts";
import { createColors, shouldColorStdout } from "../lib/colors.ts";
import { countBySeverity, type Diagnostic, formatDiagnostic } from "../lib/diagnostics.ts";
import { DEFAULT_REGISTRY_PATH } from "../lib/load.ts";
import { resolvePath } from "../lib/paths.ts";
import type { CheckMode } from "../lib/rules.ts";
import { writeOut } from "../lib/stdio.ts";
import { validateRegistryFile } from "../lib/validate.ts";

export const MODES: readonly CheckMode[] = ["all", "duplicates", "ranges"];

export const HELP = `Usage: bun tasks/validate.ts [options]

Checks the port registry against its schema and business rules.

Options:
  --mode MODE        all (default), duplicates (ports:duplicates) or ranges (ports:check-ranges)
  --json             print one JSON document (ValidateReport) instead of text
  --registry PATH    registry file, relative to the root (default: ${DEFAULT_REGISTRY_PATH})
  --root DIR         repository root (default: current directory)
  -h, --help         show this help

Output: one line per problem, "path:line:col severity rule-id message", sorted by position.
Severities can be changed per rule in the registry's top-level "rules:" map (error, warning, off).
Exit codes: 0 clean or warnings only, 1 errors, 2 usage or I/O error.`;

export type ValidateOptions = { root: string; registryPath?: string; mode?: CheckMode };

/** The `--json` document. */
export type ValidateReport = {
  registry: string;
  mode: CheckMode;
  isValid: boolean;
  errors: number;
  warnings: number;
  diagnostics: Diagnostic[];
};

export async function run(options: ValidateOptions): Promise<ValidateReport> {
  const root = resolvePath(options.root);
  const mode = options.mode ?? "all";
  const result = await validateRegistryFile(
    resolvePath(root, options.registryPath ?? DEFAULT_REGISTRY_PATH),
    root,
    mode,
  );
  return {
    registry: result.file,
    mode,
    isValid: result.isValid,
    ...countBySeverity(result.diagnostics),
    diagnostics: result.diagnostics,
  };
}

export function formatValidateReport(report: ValidateReport, isColor: boolean): string {
  const colors = createColors(isColor);
  const lines = report.diagnostics.map((diagnostic) => {
    const line = formatDiagnostic(diagnostic);
    return diagnostic.severity === "error"
      ? line.replace(" error ", ` ${colors.paint("red", "error")} `)
      : line.replace(" warning ", ` ${colors.paint("yellow", "warning")} `);
  });
  const subject = report.mode === "all" ? report.registry : `${report.registry} (${report.mode})`;
  const summary =
    report.errors === 0 && report.warnings === 0
      ? `${subject}: valid`
      : `${subject}: ${report.errors} error(s), ${report.warnings} warning(s)`;
  lines.push(report.errors > 0 ? colors.paint("red", summary) : colors.paint("green", summary));
  return `${lines.join("\n")}\n`;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    mode: { type: "string" },
    ...TASK_FLAGS,
  });
  if (values.help) {
    await writeOut(`${HELP}\n`);
    return EXIT.ok;
  }
  const mode = parseChoice("mode", values.mode, MODES, "all");
  const report = await run({ root: values.root ?? process.cwd(), registryPath: values.registry, mode });
  const text = values.json
    ? `${JSON.stringify(report, null, 2)}\n`
    : formatValidateReport(report, await shouldColorStdout(process.env));
  await writeOut(text);
  return report.isValid ? EXIT.ok : EXIT.findings;
}

if (import.meta.main) runTask("validate", main);
