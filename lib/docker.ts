/**
 * Pure planning for the Docker smoke test of the Telegram stack (`tasks/smoke-mtproto.ts`):
 * compose command lines, the per-run env file, the offline base image's file list, the
 * rollback registry variant, and the pass/fail and phase tables. Nothing here runs a process.
 */
import { isAbsolute } from "node:path";
import type { Registry, Service } from "./schema.ts";

export const ENGINE_HINT = [
  "  install: sudo apt-get install -y docker.io docker-compose   (Debian/Ubuntu; or Docker Desktop)",
  "  start:   sudo systemctl start docker   (or: sudo dockerd >/tmp/dockerd.log 2>&1 &)",
].join("\n");

export const COMPOSE_HINT = [
  "  install: sudo apt-get install -y docker-compose   (v1.29)",
  "       or: the docker-compose-plugin package        (v2, run as `docker compose`)",
].join("\n");

export const OFFLINE_BASE_HINT =
  "  no registry access? pass --offline-base to build a local base image from the Bun binary in node_modules";

export type ComposeKind = "v2" | "v1";
export type ComposeTool = { kind: ComposeKind; version: string };

/** `2.29.1`, `v2.29.1` or `docker-compose version 1.29.2, build unknown` → the version number. */
export function parseComposeVersion(output: string): string | undefined {
  return /(?:^|\s|v)(\d+\.\d+\.\d+)/.exec(output.trim())?.[1];
}

/** The argv prefix of every compose call of one run. All paths must be absolute. */
export function composeArgv(
  tool: ComposeKind,
  run: { project: string; files: readonly string[]; envFile: string; projectDirectory: string },
): string[] {
  for (const path of [...run.files, run.envFile, run.projectDirectory]) {
    if (!isAbsolute(path)) throw new Error(`compose path must be absolute: ${path}`);
  }
  const base = tool === "v2" ? ["docker", "compose"] : ["docker-compose"];
  return [
    ...base,
    "--project-name",
    run.project,
    "--project-directory",
    run.projectDirectory,
    ...run.files.flatMap((file) => ["--file", file]),
    "--env-file",
    run.envFile,
  ];
}

/** A compose project name no other run shares: lowercase letters, digits and hyphens. */
export function createProjectName(pid: number, random: string): string {
  const suffix = random
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "")
    .slice(0, 8);
  if (suffix.length === 0) throw new Error("project name needs a random suffix");
  return `ptg-smoke-${pid}-${suffix}`;
}

/**
 * The env file of one run: `.env.shared` with some values replaced (published host ports chosen
 * free for this run), so parallel runs never publish the same port. Keys that are missing are
 * appended. Everything else stays byte for byte.
 */
export function overrideEnvText(
  text: string,
  overrides: Readonly<Record<string, string>>,
  note: string,
): string {
  const pending = new Map(Object.entries(overrides));
  const lines = text.split("\n").map((line) => {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    const key = match?.[1];
    if (key === undefined || !pending.has(key)) return line;
    const value = pending.get(key) as string;
    pending.delete(key);
    return `${key}=${value}`;
  });
  const body = lines.join("\n");
  const appended = [...pending].map(([key, value]) => `${key}=${value}\n`).join("");
  const separator = body === "" || body.endsWith("\n") ? "" : "\n";
  return `# ${note}\n${body}${separator}${appended}`;
}

/** Default of `ARG BASE_IMAGE=...` in a Dockerfile, if it has one. */
export function findBaseImageDefault(dockerfile: string): string | undefined {
  return /^\s*ARG\s+BASE_IMAGE=(\S+)\s*$/m.exec(dockerfile)?.[1];
}

/**
 * The shared libraries `ldd` lists for a binary, as absolute paths (the vDSO has none). A line
 * such as `libfoo.so => not found` is returned in `missing`.
 */
export function parseLddOutput(output: string): { libraries: string[]; missing: string[] } {
  const libraries: string[] = [];
  const missing: string[] = [];
  for (const line of output.split("\n")) {
    const text = line.trim();
    if (text === "" || text.startsWith("linux-vdso") || text.startsWith("linux-gate")) continue;
    const notFound = /^(\S+) => not found/.exec(text);
    if (notFound) {
      missing.push(notFound[1] as string);
      continue;
    }
    const path = /=> (\/\S+) \(0x/.exec(text)?.[1] ?? /^(\/\S+) \(0x/.exec(text)?.[1];
    if (path && !libraries.includes(path)) libraries.push(path);
  }
  return { libraries, missing };
}

export type RootfsEntry =
  | { kind: "file"; path: string; source: string; mode: number }
  | { kind: "text"; path: string; content: string; mode: number }
  | { kind: "dir"; path: string; mode: number }
  | { kind: "symlink"; path: string; target: string };

/**
 * The offline base image's root filesystem: the Bun binary at /usr/local/bin/bun (as in the
 * official image), the glibc libraries it links (at the paths the loader expects), a world-
 * writable /tmp, and the few /etc files name lookup needs (`files` before `dns`, so the
 * `host.docker.internal` entry Docker writes to /etc/hosts wins).
 */
export function planOfflineRootfs(bunPath: string, libraries: readonly string[]): RootfsEntry[] {
  const directories = new Set<string>(["etc", "tmp", "usr", "usr/local", "usr/local/bin", "app"]);
  for (const library of libraries) {
    const parts = library.split("/").filter(Boolean).slice(0, -1);
    for (let i = 1; i <= parts.length; i++) directories.add(parts.slice(0, i).join("/"));
  }
  const entries: RootfsEntry[] = [...directories]
    .sort()
    .map((path) => ({ kind: "dir", path, mode: path === "tmp" ? 0o1777 : 0o755 }));
  entries.push(
    { kind: "file", path: "usr/local/bin/bun", source: bunPath, mode: 0o755 },
    { kind: "symlink", path: "usr/local/bin/bunx", target: "bun" },
    ...libraries.map(
      (library): RootfsEntry => ({ kind: "file", path: library.slice(1), source: library, mode: 0o755 }),
    ),
    {
      kind: "text",
      path: "etc/passwd",
      content: "root:x:0:0:root:/root:/sbin/nologin\nbun:x:10001:10001:bun:/app:/sbin/nologin\n",
      mode: 0o644,
    },
    { kind: "text", path: "etc/group", content: "root:x:0:\nbun:x:10001:\n", mode: 0o644 },
    {
      kind: "text",
      path: "etc/nsswitch.conf",
      content: "passwd: files\ngroup: files\nhosts: files dns\n",
      mode: 0o644,
    },
  );
  return entries;
}

/** `docker import --change` instructions of the offline base image. */
export function offlineBaseChanges(bunVersion: string): string[] {
  return [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `ENV BUN_VERSION=${bunVersion}`,
    `LABEL org.opencontainers.image.title=bun-offline org.opencontainers.image.version=${bunVersion}`,
    "WORKDIR /app",
    'CMD ["bun"]',
  ];
}

export function offlineBaseTag(bunVersion: string): string {
  return `port-governance/bun-offline:${bunVersion}`;
}

/**
 * The rollback plan as a registry change: `service` runs natively on the host (container:
 * false) at `port`. Rendering the variant gives the compose file the rollback would use: its
 * consumers reach it through host.docker.internal with `extra_hosts: host-gateway`.
 */
export function nativeVariant(registry: Registry, serviceName: string, port: number): Registry {
  if (!registry.services.some((service) => service.name === serviceName)) {
    throw new Error(`no service ${serviceName} in the registry`);
  }
  return {
    ...registry,
    services: registry.services.map(
      (service): Service => (service.name === serviceName ? { ...service, container: false, port } : service),
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// Results

export type CheckStatus = "pass" | "fail" | "skip";
export type SmokeCheck = { id: number; name: string; status: CheckStatus; ms: number; detail: string };
export type SmokePhase = { name: string; ms: number; note?: string };

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function renderTable(
  header: string[],
  rows: string[][],
  paint: (row: number, text: string) => string,
): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] as number)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map((row, index) => paint(index, line(row)))].join("\n");
}

export function formatChecks(
  checks: readonly SmokeCheck[],
  paint: (status: CheckStatus, text: string) => string = (_, t) => t,
): string {
  const rows = checks.map((check) => [
    String(check.id),
    check.name,
    check.status.toUpperCase(),
    formatSeconds(check.ms),
    check.detail,
  ]);
  return renderTable(["#", "check", "result", "time", "detail"], rows, (row, text) =>
    paint((checks[row] as SmokeCheck).status, text),
  );
}

export function formatPhases(phases: readonly SmokePhase[]): string {
  const rows = phases.map((phase) => [phase.name, formatSeconds(phase.ms), phase.note ?? ""]);
  return renderTable(["phase", "time", "note"], rows, (_, text) => text);
}

/** Exit code of a run: 0 all checks passed (skips allowed), 1 any failed. */
export function exitCodeOf(checks: readonly SmokeCheck[]): 0 | 1 {
  return checks.some((check) => check.status === "fail") ? 1 : 0;
}
