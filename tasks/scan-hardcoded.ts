/**
 * `npm run ports:scan-hardcoded`: finds literal ports that bypass the registry, in every file type
 * a monorepo hides them in, and says what to use instead.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { EXIT, parseChoice, parseFlags, runTask, TASK_FLAGS } from "../lib/cli.ts";
import { createColors, shouldColorStdout } from "../lib/colors.ts";
import { compareCodeUnits } from "../lib/compare.ts";
import { IoError, UsageError } from "../lib/errors.ts";
import { DEFAULT_REGISTRY_PATH, displayPath } from "../lib/paths.ts";
import { ALLOW_MARKERS, type Finding } from "../lib/scan.ts";
import {
  type BatchResult,
  type BatchSettings,
  countIgnored,
  createBatch,
  PARALLEL_THRESHOLD,
  type SkipCount,
  scanOne,
  scanPaths,
  startScanWorker,
} from "../lib/scan-batch.ts";
import { DEFAULT_SCAN_CONFIG_PATH, loadScanConfig } from "../lib/scan-config.ts";
import {
  createPathFilter,
  DEFAULT_BASELINE_PATH,
  type Discovery,
  listCandidates,
  listUntrackedFiles,
  readStagedFiles,
  rootRelativePaths,
  selectPaths,
} from "../lib/scan-files.ts";
import { createEmptyPortIndex, type PortIndex } from "../lib/scan-findings.ts";
import type { SarifLog } from "../lib/scan-sarif.ts";
import { writeOut } from "../lib/stdio.ts";
import packageJson from "../package.json" with { type: "json" };

export const FORMATS = ["text", "json", "sarif"] as const;
export type Format = (typeof FORMATS)[number];

export const HELP = `Usage: bun tasks/scan-hardcoded.ts [options] [PATH...]

Finds hardcoded ports (localhost:NNNN, 127.0.0.1, 0.0.0.0, [::1], host.docker.internal, compose
ports, PORT=NNNN, --port NNNN, .listen(NNNN), env fallbacks) in js/ts/jsx/tsx/mjs/cjs/mts/cts,
yml/yaml, sh/bash/zsh, json/jsonc, .env*, *.env, .envrc and Dockerfile*, names the registered
service that owns each port and the .env.shared variable to use instead.

Files: the tracked files in a git repository (so .gitignore holds), a walk of the tree elsewhere,
only PATHs when given, or the staged content with --staged. Skipped: files that ports:sync
generates, the registry, the baseline, the settings file ${DEFAULT_SCAN_CONFIG_PATH} itself and
the paths of its "ignore" globs.

Options:
  --staged             scan the staged content (for pre-commit hooks)
  --format FORMAT      text (default), json (ScanReport) or sarif (SARIF 2.1.0)
  --json               same as --format json
  --warn               report findings but exit 0 (the adoption phase); SARIF level "warning"
  --baseline PATH      ignore the findings recorded in PATH (default: the settings' "baseline")
  --update-baseline    record every current finding in the baseline and exit 0
                       (default path: ${DEFAULT_BASELINE_PATH})
  --registry PATH      registry file, relative to the root (default: ${DEFAULT_REGISTRY_PATH})
  --config PATH        scanner settings (default: ${DEFAULT_SCAN_CONFIG_PATH}, optional)
  --root DIR           repository root (default: current directory)
  -h, --help           show this help

Suppress one line with a comment on it or on the line above: "ports:allow <reason>" (or
"port-governance:ignore <reason>"). A marker without a reason is itself a finding.

Output: "path:line:col rule message" per finding, then a summary.
Exit codes: 0 clean (or --warn, or --update-baseline), 1 findings, 2 usage, settings or I/O error.
If the registry is missing or invalid the scan still runs: every port is then "unregistered".`;

export type ScanOptions = {
  root: string;
  /** Where relative PATH arguments are resolved (default: the root). */
  cwd?: string;
  paths?: string[];
  isStaged?: boolean;
  registryPath?: string;
  configPath?: string;
  baselinePath?: string;
  shouldUpdateBaseline?: boolean;
};

export type SkippedCounts = Record<SkipCount, number>;

export type RegistryStatus = "valid" | "invalid" | "missing";

/** The `--format json` document. */
export type ScanReport = {
  version: 1;
  discovery: Discovery | "paths";
  registry: { file: string; status: RegistryStatus; services: number };
  filesScanned: number;
  skipped: SkippedCounts;
  suppressed: { inline: number; baseline: number };
  /** Baseline entries that no longer match any finding (prune them with --update-baseline); full scans only. */
  staleBaseline: number;
  baselineWritten?: { file: string; findings: number };
  findings: Finding[];
};

function emptySkipped(): SkippedCounts {
  return {
    ignored: 0,
    generated: 0,
    binary: 0,
    "too-large": 0,
    symlink: 0,
    "outside-root": 0,
    special: 0,
    unreadable: 0,
  };
}

async function loadIndex(
  root: string,
  registryPath: string | undefined,
): Promise<{ index: PortIndex; registry: ScanReport["registry"] }> {
  const absolute = resolve(root, registryPath ?? DEFAULT_REGISTRY_PATH);
  const file = displayPath(absolute, root);
  if (!existsSync(absolute)) {
    if (registryPath !== undefined) throw new IoError(`${registryPath}: no such registry file`);
    return { index: createEmptyPortIndex(), registry: { file, status: "missing", services: 0 } };
  }
  // The schema, the rules and the derivations load only when there is a registry to check.
  const { validateRegistryFile } = await import("../lib/validate.ts");
  const result = await validateRegistryFile(absolute, root);
  const status: RegistryStatus = result.registry ? "valid" : "invalid";
  const { createPortIndex } = await import("../lib/scan-index.ts");
  return {
    index: createPortIndex(result.registry),
    registry: { file, status, services: result.registry?.services.length ?? 0 },
  };
}

function compareFindings(a: Finding, b: Finding): number {
  return (
    compareCodeUnits(a.file, b.file) || a.line - b.line || a.col - b.col || compareCodeUnits(a.rule, b.rule)
  );
}

export async function run(options: ScanOptions): Promise<ScanReport> {
  const root = resolve(options.root);
  const cwd = options.cwd ? resolve(options.cwd) : root;
  // A whole-tree scan starts the read-ahead thread first, so its start-up overlaps the
  // listing and the registry load; a short list terminates it unused.
  const isWholeTree = !options.isStaged && !(options.paths && options.paths.length > 0);
  let worker = isWholeTree ? startScanWorker() : undefined;
  try {
    const config = loadScanConfig(root, options.configPath);
    const skipped = emptySkipped();
    let discovery: ScanReport["discovery"] = "staged";
    let paths: string[] = [];
    if (!options.isStaged) {
      const listed = await listCandidates(root);
      paths = listed.paths;
      discovery = listed.discovery;
      if (options.paths && options.paths.length > 0) {
        // A directory argument reaches its new, not yet tracked files too (ignored ones stay out).
        const candidates =
          listed.discovery === "tracked"
            ? [...listed.paths, ...listUntrackedFiles(root, rootRelativePaths(root, cwd, options.paths))]
            : listed.paths;
        const selected = selectPaths(root, cwd, options.paths, candidates);
        skipped["outside-root"] += selected.outside.length;
        paths = selected.paths;
        discovery = "paths";
      }
    }
    if (paths.length < PARALLEL_THRESHOLD) {
      worker?.terminate();
      worker = undefined;
    } else {
      worker ??= startScanWorker();
    }
    const { index, registry } = await loadIndex(root, options.registryPath);
    const baselinePath = options.baselinePath ?? config.baseline;
    const settings: BatchSettings = {
      root,
      minPort: config.minPort,
      maxFileBytes: config.maxFileBytes,
      ignore: config.ignore.map((entry) => entry.path),
      // The toolkit's own files: the registry, the baseline and these settings.
      exclude: [
        registry.file,
        baselinePath ?? DEFAULT_BASELINE_PATH,
        displayPath(resolve(root, options.configPath ?? DEFAULT_SCAN_CONFIG_PATH), root),
      ],
    };
    let batch: BatchResult;
    if (options.isStaged) {
      batch = createBatch();
      const filter = createPathFilter(settings);
      const accept = (path: string) => {
        const verdict = filter(path);
        if (verdict === "ignored") countIgnored(batch);
        return verdict === "read";
      };
      for (const file of readStagedFiles(root, config.maxFileBytes, accept)) {
        scanOne(batch, file.path, file, index, config.minPort);
      }
    } else {
      batch = scanPaths(paths, index, settings, worker);
    }
    return finishReport({ options, root, discovery, registry, skipped, batch, baselinePath });
  } finally {
    worker?.terminate();
  }
}

async function finishReport(input: {
  options: ScanOptions;
  root: string;
  discovery: ScanReport["discovery"];
  registry: ScanReport["registry"];
  skipped: SkippedCounts;
  batch: BatchResult;
  baselinePath: string | undefined;
}): Promise<ScanReport> {
  const { options, root, discovery, registry, skipped, batch, baselinePath } = input;
  for (const [reason, count] of Object.entries(batch.skipped) as [SkipCount, number][])
    skipped[reason] += count;
  const filesScanned = batch.filesScanned;
  const inline = batch.inline;
  const findings = batch.findings;
  findings.sort(compareFindings);

  const report: ScanReport = {
    version: 1,
    discovery,
    registry,
    filesScanned,
    skipped,
    suppressed: { inline, baseline: 0 },
    staleBaseline: 0,
    findings,
  };
  if (options.shouldUpdateBaseline || baselinePath !== undefined) {
    await applyBaselineFile(report, options, root, baselinePath);
  }
  return report;
}

/** Records the findings in the baseline, or drops the ones it records (the module loads only then). */
async function applyBaselineFile(
  report: ScanReport,
  options: ScanOptions,
  root: string,
  baselinePath: string | undefined,
): Promise<void> {
  const { applyBaseline, readBaseline, renderBaseline, writeBaseline } = await import(
    "../lib/scan-baseline.ts"
  );
  const { findings, discovery } = report;
  if (options.shouldUpdateBaseline) {
    const target = baselinePath ?? DEFAULT_BASELINE_PATH;
    writeBaseline(root, target, renderBaseline(findings));
    report.baselineWritten = { file: target, findings: findings.length };
  } else if (baselinePath !== undefined) {
    const split = applyBaseline(findings, readBaseline(root, baselinePath));
    report.findings = split.kept;
    report.suppressed.baseline = split.baselined;
    // Only a full scan can tell that an entry matches nothing any more.
    report.staleBaseline = discovery === "tracked" || discovery === "glob" ? split.stale : 0;
  }
}

export function formatFinding(finding: Finding): string {
  return `${finding.file}:${finding.line}:${finding.col} ${finding.rule} ${finding.message}`;
}

function describeSkipped(skipped: SkippedCounts): string {
  const parts = Object.entries(skipped)
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${count} ${reason}`);
  return parts.length > 0 ? `; skipped ${parts.join(", ")}` : "";
}

export function formatScanReport(report: ScanReport, options: { isColor: boolean; isWarn: boolean }): string {
  const colors = createColors(options.isColor);
  const lines = report.findings.map((finding) => {
    const text = formatFinding(finding);
    const ruleAt = text.indexOf(` ${finding.rule} `);
    return `${text.slice(0, ruleAt)} ${colors.paint(options.isWarn ? "yellow" : "red", finding.rule)}${text.slice(ruleAt + finding.rule.length + 1)}`;
  });
  if (report.registry.status !== "valid") {
    lines.push(
      report.registry.status === "missing"
        ? `note: no registry at ${report.registry.file}; every port counts as unregistered`
        : `note: ${report.registry.file} is invalid (run npm run ports:validate); every port counts as unregistered`,
    );
  }
  const fileCount = new Set(report.findings.map((finding) => finding.file)).size;
  const suppressed = [
    report.suppressed.inline > 0 ? `${report.suppressed.inline} allowed inline` : "",
    report.suppressed.baseline > 0 ? `${report.suppressed.baseline} in the baseline` : "",
  ].filter(Boolean);
  const summary =
    `${report.findings.length} hardcoded port(s) in ${fileCount} file(s)` +
    ` (scanned ${report.filesScanned} file(s)${describeSkipped(report.skipped)}` +
    `${suppressed.length > 0 ? `; ${suppressed.join(", ")}` : ""})`;
  lines.push(
    report.findings.length > 0
      ? colors.paint(options.isWarn ? "yellow" : "red", summary)
      : colors.paint("green", summary),
  );
  if (report.staleBaseline > 0) {
    lines.push(
      `${report.staleBaseline} baseline entr(ies) no longer match; prune them with --update-baseline`,
    );
  }
  if (report.baselineWritten) {
    lines.push(`wrote ${report.baselineWritten.findings} finding(s) to ${report.baselineWritten.file}`);
  } else if (report.findings.length > 0) {
    lines.push(
      "Fix: read the port from .env.shared through the variable each message names (unregistered ports: npm run ports:new first).",
      `Keep a literal on purpose: add "${ALLOW_MARKERS[0]} <reason>" in a comment on that line or the line above;` +
        " for many old findings at once: --update-baseline, then scan with --baseline.",
    );
  }
  return `${lines.join("\n")}\n`;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      staged: { type: "boolean" },
      format: { type: "string" },
      warn: { type: "boolean" },
      baseline: { type: "string" },
      "update-baseline": { type: "boolean" },
      config: { type: "string" },
      ...TASK_FLAGS,
    },
    true,
  );
  if (values.help) {
    await writeOut(`${HELP}\n`);
    return EXIT.ok;
  }
  const format: Format = values.json ? "json" : parseChoice("format", values.format, FORMATS, "text");
  if (values.json && values.format !== undefined && values.format !== "json") {
    throw new UsageError("--json and --format are mutually exclusive");
  }
  if (values.staged && positionals.length > 0) {
    throw new UsageError("--staged scans the index; do not pass paths with it");
  }
  if (values["update-baseline"] && (values.staged || positionals.length > 0)) {
    throw new UsageError("--update-baseline records a full scan; do not combine it with --staged or paths");
  }
  const isWarn = values.warn === true;
  const report = await run({
    root: values.root ?? process.cwd(),
    cwd: process.cwd(),
    paths: positionals,
    isStaged: values.staged === true,
    registryPath: values.registry,
    configPath: values.config,
    baselinePath: values.baseline,
    shouldUpdateBaseline: values["update-baseline"] === true,
  });
  if (format === "json") {
    await writeOut(`${JSON.stringify(report, null, 2)}\n`);
  } else if (format === "sarif") {
    const { renderSarif } = await import("../lib/scan-sarif.ts");
    const log: SarifLog = renderSarif(report.findings, {
      level: isWarn ? "warning" : "error",
      version: packageJson.version,
    });
    await writeOut(`${JSON.stringify(log, null, 2)}\n`);
  } else {
    const isColor = await shouldColorStdout(process.env);
    await writeOut(formatScanReport(report, { isColor, isWarn }));
  }
  if (report.baselineWritten || isWarn) return EXIT.ok;
  return report.findings.length > 0 ? EXIT.findings : EXIT.ok;
}

if (import.meta.main) runTask("scan-hardcoded", main);
