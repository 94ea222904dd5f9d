/**
 * `npm run ports:health`: checks registered services concurrently, each under a timeout. HTTP
 * services get a GET of their healthcheck endpoint and the expected status, the rest a TCP connect.
 */
import { relative, resolve } from "node:path";
import { EXIT, parseFlags, runTask, TASK_FLAGS } from "../lib/cli.ts";
import { createColors, shouldColorStdout } from "../lib/colors.ts";
import { type Diagnostic, formatDiagnostic } from "../lib/diagnostics.ts";
import { ConfigError, UsageError } from "../lib/errors.ts";
import {
  checkHealth,
  DEFAULT_TIMEOUT_MS,
  type HealthResult,
  planHealthTargets,
  readEnvFile,
  summarizeHealth,
} from "../lib/health.ts";
import { DEFAULT_REGISTRY_PATH } from "../lib/load.ts";
import { writeErr, writeOut } from "../lib/stdio.ts";
import { validateRegistryFile } from "../lib/validate.ts";

export const HELP = `Usage: bun tasks/health.ts [options]

Checks every registered service at once: a GET of the healthcheck endpoint (expected status,
default 200) for http/https, a TCP connect for the other protocols (udp is skipped).

Options:
  --stack NAME       only the services of this stack
  --service NAME     only this service (repeatable)
  --host HOST        host for every check (default: localhost)
  --env-file PATH    take published ports from this env file (for example .env.shared)
  --timeout MS       timeout per check in milliseconds (default: ${DEFAULT_TIMEOUT_MS})
  --json             print one JSON document (HealthReport) instead of text
  --registry PATH    registry file, relative to the root (default: ${DEFAULT_REGISTRY_PATH})
  --root DIR         repository root (default: current directory)
  -h, --help         show this help

Exit codes: 0 every checked service healthy, 1 any unhealthy or an invalid registry, 2 usage or I/O error.`;

export type HealthOptions = {
  root: string;
  registryPath?: string;
  stack?: string;
  services?: readonly string[];
  host?: string;
  envFile?: string;
  timeoutMs?: number;
};

/** The `--json` document. */
export type HealthReport = {
  registry: string;
  /** The env file the ports came from, relative to the root when inside it. */
  envFile: string | null;
  timeoutMs: number;
  isHealthy: boolean;
  healthy: number;
  unhealthy: number;
  skipped: number;
  results: HealthResult[];
  /** The registry's errors and warnings, as ports:validate reports them (errors mean nothing was checked). */
  diagnostics: Diagnostic[];
};

export async function run(options: HealthOptions): Promise<HealthReport> {
  const root = resolve(options.root);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const validation = await validateRegistryFile(
    resolve(root, options.registryPath ?? DEFAULT_REGISTRY_PATH),
    root,
  );
  const envPath = options.envFile === undefined ? undefined : resolve(root, options.envFile);
  const envFile = envPath === undefined ? null : displayPath(root, envPath);
  if (!validation.registry) {
    const diagnostics = validation.diagnostics;
    return {
      registry: validation.file,
      envFile,
      timeoutMs,
      isHealthy: false,
      healthy: 0,
      unhealthy: 0,
      skipped: 0,
      results: [],
      diagnostics,
    };
  }
  const env = envPath === undefined ? undefined : await readEnvFile(envPath, envFile ?? envPath);
  let targets: ReturnType<typeof planHealthTargets>;
  try {
    targets = planHealthTargets(validation.registry, {
      stack: options.stack,
      services: options.services,
      host: options.host,
      env,
    });
  } catch (error) {
    // A bad value in the env file names the file.
    if (error instanceof ConfigError && envFile !== null)
      throw new ConfigError(`${envFile}: ${error.message}`);
    throw error;
  }
  const results = await checkHealth(targets, { timeoutMs });
  const summary = summarizeHealth(results);
  return {
    registry: validation.file,
    envFile,
    timeoutMs,
    isHealthy: summary.unhealthy === 0,
    ...summary,
    results,
    diagnostics: validation.diagnostics,
  };
}

function displayPath(root: string, path: string): string {
  const rel = relative(root, path);
  return rel && !rel.startsWith("..") && !rel.startsWith("/") ? rel : path;
}

const STATUS_LABEL = { healthy: "ok", unhealthy: "FAIL", skipped: "skip" } as const;

export function formatHealthReport(report: HealthReport, isColor: boolean): string {
  const colors = createColors(isColor);
  const errors = report.diagnostics.filter((diagnostic) => diagnostic.severity === "error");
  if (errors.length > 0) {
    return `${[...errors.map(formatDiagnostic), `${report.registry}: invalid registry; nothing was checked (see npm run ports:validate)`].join("\n")}\n`;
  }
  const rows = report.results.map((result) => [
    STATUS_LABEL[result.status],
    result.service,
    result.stack,
    result.target,
    result.detail,
    `${result.ms} ms`,
  ]);
  const widths = [0, 1, 2, 3, 4].map((column) =>
    Math.max(0, ...rows.map((row) => (row[column] as string).length)),
  );
  const lines = rows.map((row, index) => {
    const status = (report.results[index] as HealthResult).status;
    const cells = row.map((cell, column) => (column < 5 ? cell.padEnd(widths[column] as number) : cell));
    const style = status === "healthy" ? "green" : status === "unhealthy" ? "red" : "yellow";
    cells[0] = colors.paint(style, cells[0] as string);
    return cells.join("  ");
  });
  const summary = `${report.healthy} healthy, ${report.unhealthy} unhealthy, ${report.skipped} skipped`;
  lines.push(report.isHealthy ? colors.paint("green", summary) : colors.paint("red", summary));
  return `${lines.join("\n")}\n`;
}

function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const timeout = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
  if (!(timeout >= 1 && timeout <= 600_000)) {
    throw new UsageError(
      `--timeout must be a whole number of milliseconds between 1 and 600000, got "${value}"`,
    );
  }
  return timeout;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    stack: { type: "string" },
    service: { type: "string", multiple: true },
    host: { type: "string" },
    "env-file": { type: "string" },
    timeout: { type: "string" },
    ...TASK_FLAGS,
  });
  if (values.help) {
    await writeOut(`${HELP}\n`);
    return EXIT.ok;
  }
  if (values.host !== undefined && !/^[A-Za-z0-9.\-:[\]]+$/.test(values.host)) {
    throw new UsageError(`--host must be a host name or an IP address, got "${values.host}"`);
  }
  const report = await run({
    root: values.root ?? process.cwd(),
    registryPath: values.registry,
    stack: values.stack,
    services: values.service,
    host: values.host?.replace(/^\[(.*)\]$/, "$1"),
    envFile: values["env-file"],
    timeoutMs: parseTimeout(values.timeout),
  });
  if (values.json) await writeOut(`${JSON.stringify(report, null, 2)}\n`);
  // An invalid registry (errors) goes to stderr; warnings do not stop the checks or move the table.
  else if (report.diagnostics.some((diagnostic) => diagnostic.severity === "error"))
    await writeErr(formatHealthReport(report, false));
  else await writeOut(formatHealthReport(report, await shouldColorStdout(process.env)));
  return report.isHealthy ? EXIT.ok : EXIT.findings;
}

if (import.meta.main) runTask("health", main);
