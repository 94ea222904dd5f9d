/**
 * `npm run ports:report`: stacks with range utilisation and next free ports, counts by protocol,
 * deprecated services and the validator's findings. The exit code reflects validity.
 */
import { resolve } from "node:path";
import { EXIT, parseFlags, runTask, TASK_FLAGS } from "../lib/cli.ts";
import { createColors, shouldColorStdout } from "../lib/colors.ts";
import {
  compareCodeUnits,
  describeNoFreePort,
  type StackUsage,
  stackUsage,
  usagePercent,
} from "../lib/derive.ts";
import { countBySeverity, type Diagnostic, formatDiagnostic } from "../lib/diagnostics.ts";
import { DEFAULT_REGISTRY_PATH } from "../lib/load.ts";
import type { Registry } from "../lib/schema.ts";
import { writeOut } from "../lib/stdio.ts";
import { validateRegistryFile } from "../lib/validate.ts";

export const HELP = `Usage: bun tasks/report.ts [options]

An overview of the registry: range utilisation and next free ports per stack, counts by protocol,
deprecated services, and every warning or error.

Options:
  --json             print one JSON document (PortsReport) instead of text
  --registry PATH    registry file, relative to the root (default: ${DEFAULT_REGISTRY_PATH})
  --root DIR         repository root (default: current directory)
  -h, --help         show this help

Exit codes: 0 valid (warnings allowed), 1 registry has errors, 2 usage or I/O error.`;

export type ReportOptions = { root: string; registryPath?: string };

/** The `--json` document. */
export type PortsReport = {
  registry: string;
  isValid: boolean;
  version?: string;
  lastUpdated?: string;
  services: number;
  stacks: StackUsage[];
  protocols: Record<string, number>;
  deprecated: { name: string; port: number; replacement?: string; notes?: string }[];
  errors: number;
  warnings: number;
  diagnostics: Diagnostic[];
};

export function summarize(registry: Registry) {
  const protocols: Record<string, number> = {};
  for (const service of [...registry.services].sort((a, b) => compareCodeUnits(a.protocol, b.protocol))) {
    protocols[service.protocol] = (protocols[service.protocol] ?? 0) + 1;
  }
  const deprecated = registry.services
    .filter((service) => service.deprecated)
    .sort((a, b) => compareCodeUnits(a.name, b.name))
    .map((service) => ({
      name: service.name,
      port: service.port,
      replacement: service.replacement,
      ...(service.notes ? { notes: service.notes } : {}),
    }));
  return { stacks: stackUsage(registry, 3), protocols, deprecated };
}

export async function run(options: ReportOptions): Promise<PortsReport> {
  const root = resolve(options.root);
  const result = await validateRegistryFile(
    resolve(root, options.registryPath ?? DEFAULT_REGISTRY_PATH),
    root,
  );
  const counts = countBySeverity(result.diagnostics);
  const base = { registry: result.file, isValid: result.isValid, ...counts, diagnostics: result.diagnostics };
  if (!result.registry) return { ...base, services: 0, stacks: [], protocols: {}, deprecated: [] };
  return {
    ...base,
    version: result.registry.version,
    lastUpdated: result.registry.lastUpdated,
    services: result.registry.services.length,
    ...summarize(result.registry),
  };
}

function table(rows: string[][]): string[] {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd(),
  );
}

/** The next free ports, or why there are none: every port taken, or only ephemeral ones left. */
function describeNextFree(stack: StackUsage): string {
  if (stack.nextFree.length > 0) return stack.nextFree.join(", ");
  return describeNoFreePort(stack);
}

export function formatReport(report: PortsReport, isColor: boolean): string {
  const { paint } = createColors(isColor);
  const lines: string[] = [];
  if (report.version) {
    lines.push(
      paint(
        "bold",
        `Port registry ${report.registry} v${report.version} (updated ${report.lastUpdated}): ${report.services} services`,
      ),
      "",
    );
    lines.push(paint("bold", "Stacks"));
    lines.push(
      ...table([
        ["stack", "range", "used", "size", "use", "next free"],
        ...report.stacks.map((stack) => [
          stack.stack,
          stack.range,
          String(stack.used),
          String(stack.size),
          `${usagePercent(stack.used, stack.size)}%`,
          describeNextFree(stack),
        ]),
      ]).map((line) => `  ${line}`),
    );
    lines.push("", paint("bold", "Protocols"));
    lines.push(
      ...Object.entries(report.protocols).map(([protocol, count]) => `  ${protocol.padEnd(10)} ${count}`),
    );
    lines.push("", paint("bold", "Deprecated"));
    if (report.deprecated.length === 0) lines.push("  none");
    for (const service of report.deprecated) {
      const notes = service.notes ? `: ${service.notes}` : "";
      lines.push(
        `  ${service.name} (${service.port}) -> ${service.replacement ?? "no replacement named"}${notes}`,
      );
    }
    lines.push("");
  }
  lines.push(paint("bold", "Findings"));
  if (report.diagnostics.length === 0) lines.push("  none");
  lines.push(...report.diagnostics.map((diagnostic) => `  ${formatDiagnostic(diagnostic)}`));
  lines.push(
    "",
    report.isValid
      ? paint("green", `valid: ${report.errors} error(s), ${report.warnings} warning(s)`)
      : paint("red", `invalid: ${report.errors} error(s), ${report.warnings} warning(s)`),
  );
  return `${lines.join("\n")}\n`;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, TASK_FLAGS);
  if (values.help) {
    await writeOut(`${HELP}\n`);
    return EXIT.ok;
  }
  const report = await run({ root: values.root ?? process.cwd(), registryPath: values.registry });
  if (values.json) await writeOut(`${JSON.stringify(report, null, 2)}\n`);
  else await writeOut(formatReport(report, await shouldColorStdout(process.env)));
  return report.isValid ? EXIT.ok : EXIT.findings;
}

if (import.meta.main) runTask("report", main);
