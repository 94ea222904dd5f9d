/**
 * `npm run ports:doctor`: compares the registry with what is listening on this machine now.
 *
 * - registered ports some process holds (with pid and command where readable);
 * - listeners on ports inside a declared range that the registry does not know (conflict);
 * - container services whose port a process outside any container holds (conflict).
 *
 * Listeners come from /proc/net/{tcp,tcp6,udp,udp6}, owners from /proc/<pid>/fd. A process counts
 * as a container's when it is a port forwarder (docker-proxy, rootlesskit, rootlessport,
 * slirp4netns, pasta, conmon, containerd-shim*) or its cgroup names a container.
 */
import { resolve } from "node:path";
import { type Holder, inspectOccupancy, type Occupancy } from "../lib/allocate.ts";
import { EXIT, parseFlags, runTask, TASK_FLAGS } from "../lib/cli.ts";
import { createColors, shouldColorStdout } from "../lib/colors.ts";
import { type Diagnostic, formatDiagnostic } from "../lib/diagnostics.ts";
import { describeOwner, type Listener, readListeners } from "../lib/listeners.ts";
import { DEFAULT_REGISTRY_PATH } from "../lib/load.ts";
import { writeErr, writeOut } from "../lib/stdio.ts";
import { validateRegistryFile } from "../lib/validate.ts";

export const HELP = `Usage: bun tasks/doctor.ts [options]

Compares the registry with the TCP and UDP ports (IPv4 and IPv6) listening on this machine now.

Options:
  --json             print one JSON document (DoctorReport) instead of text
  --registry PATH    registry file, relative to the root (default: ${DEFAULT_REGISTRY_PATH})
  --root DIR         repository root (default: current directory)
  -h, --help         show this help

Reports registered ports held by a process, listeners inside a declared range that the registry
does not know, and container services whose port a process outside any container holds.
Exit codes: 0 no conflicts, 1 conflicts (or an invalid registry), 2 usage or I/O error.`;

export type DoctorOptions = {
  root: string;
  registryPath?: string;
  /** Listeners on this machine; read from /proc when not given. */
  readListeners?: () => Listener[];
};

/** The `--json` document. */
export type DoctorReport = Occupancy & {
  registry: string;
  isValid: boolean;
  /** Registry diagnostics (only errors stop the comparison). */
  diagnostics: Diagnostic[];
  /** Listening TCP and bound UDP sockets seen on this machine. */
  listeners: number;
  conflicts: number;
};

export async function run(options: DoctorOptions): Promise<DoctorReport> {
  const root = resolve(options.root);
  const validation = await validateRegistryFile(
    resolve(root, options.registryPath ?? DEFAULT_REGISTRY_PATH),
    root,
  );
  const empty: Occupancy = { inUse: [], unknown: [], containerPortsTaken: [] };
  if (!validation.registry) {
    return {
      registry: validation.file,
      isValid: false,
      diagnostics: validation.diagnostics,
      listeners: 0,
      conflicts: 0,
      ...empty,
    };
  }
  const listeners = (options.readListeners ?? (() => readListeners()))();
  const occupancy = inspectOccupancy(validation.registry, listeners);
  return {
    registry: validation.file,
    isValid: true,
    diagnostics: validation.diagnostics,
    listeners: listeners.length,
    conflicts: occupancy.unknown.length + occupancy.containerPortsTaken.length,
    ...occupancy,
  };
}

export function exitCodeOf(report: DoctorReport): number {
  return report.isValid && report.conflicts === 0 ? EXIT.ok : EXIT.findings;
}

function describeHolders(holders: readonly Holder[]): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const holder of holders) {
    const text = `${describeOwner(holder)}${holder.isContainerProcess ? " [container]" : ""} on ${holder.transport}${holder.family === 6 ? "6" : ""} ${holder.address}`;
    if (seen.has(text)) continue;
    seen.add(text);
    parts.push(text);
  }
  return parts.join(", ");
}

export function formatDoctorReport(
  report: DoctorReport,
  isColor: boolean,
): { stdout: string; stderr: string } {
  const colors = createColors(isColor);
  if (!report.isValid) {
    const lines = report.diagnostics.map(formatDiagnostic);
    lines.push(`doctor: ${report.registry} has errors; fix them first (npm run ports:validate)`);
    return { stdout: "", stderr: `${lines.join("\n")}\n` };
  }
  const out: string[] = [];
  if (report.inUse.length > 0) {
    out.push("Registered ports in use:");
    for (const item of report.inUse) {
      out.push(
        `  ${String(item.port).padEnd(5)} ${item.service.padEnd(24)} ${describeHolders(item.holders)}`,
      );
    }
  }
  if (report.unknown.length > 0) {
    out.push(colors.paint("red", "Listeners in declared ranges that the registry does not know:"));
    for (const item of report.unknown) {
      out.push(
        `  ${String(item.port).padEnd(5)} ${`${item.stack} ${item.range}`.padEnd(24)} ${describeHolders(item.holders)}`,
      );
    }
  }
  if (report.containerPortsTaken.length > 0) {
    out.push(colors.paint("red", "Container services whose port a process outside any container holds:"));
    for (const item of report.containerPortsTaken) {
      out.push(
        `  ${String(item.port).padEnd(5)} ${item.service.padEnd(24)} ${describeHolders(item.holders)}`,
      );
    }
  }
  const summary = `doctor: ${report.conflicts} conflict(s); ${report.inUse.length} registered port(s) in use; ${report.listeners} listener(s) on this machine`;
  out.push(report.conflicts > 0 ? colors.paint("red", summary) : colors.paint("green", summary));
  return { stdout: `${out.join("\n")}\n`, stderr: "" };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, TASK_FLAGS);
  if (values.help) {
    await writeOut(`${HELP}\n`);
    return EXIT.ok;
  }
  const report = await run({ root: values.root ?? process.cwd(), registryPath: values.registry });
  if (values.json) {
    await writeOut(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const { stdout, stderr } = formatDoctorReport(report, await shouldColorStdout(process.env));
    await writeOut(stdout);
    await writeErr(stderr);
  }
  return exitCodeOf(report);
}

if (import.meta.main) runTask("doctor", main);
