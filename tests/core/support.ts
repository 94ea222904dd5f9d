/**
 * Shared test plumbing: repository paths, registry text builders, temp roots and task spawning.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Diagnostic } from "../../lib/diagnostics.ts";
import { parseRegistry } from "../../lib/load.ts";
import { validateParsed } from "../../lib/validate.ts";

export const REPO = join(import.meta.dir, "..", "..");
export const FIXTURES = join(REPO, "fixtures");
export const TRADINGSYSTEM = join(FIXTURES, "validate", "tradingsystem", "registry.yaml");
export const DEFAULT_REGISTRY = join(REPO, "config", "ports", "registry.yaml");

/** The registry header every rule case shares; `services:` is line 8, the first service starts on line 9. */
export const HEAD = `version: "1.0.0"
lastUpdated: "2025-11-11"
ranges:
  api: "4000-4099"
  data: "5000-5099"
networks:
  backend: {}
services:
`;

/**
 * One container service in 8 lines (name on the first, network on the last), plus `extra` lines
 * indented under it.
 */
export function service(name: string, port: number, extra: string[] = [], stack = "api"): string {
  return [
    `  - name: ${name}`,
    `    stack: ${stack}`,
    `    port: ${port}`,
    "    protocol: http",
    "    owner: Team A",
    `    description: Serves the ${name} endpoints`,
    "    container: true",
    "    network: backend",
    ...extra.map((line) => `    ${line}`),
    "",
  ].join("\n");
}

/** The same block as `service()`, for a native service: no `container: true`, no network. */
export function nativeService(name: string, port: number, extra: string[] = [], stack = "api"): string {
  return service(name, port, extra, stack)
    .replace("container: true", "container: false")
    .replace("    network: backend\n", "");
}

export function diagnosticsOf(source: string, file = "r.yaml"): Diagnostic[] {
  return validateParsed(parseRegistry(source, file)).diagnostics;
}

/** A diagnostic with its severity taken from the rule's default. */
export function diagnostic(
  line: number,
  col: number,
  rule: string,
  severity: "error" | "warning",
  message: string,
  file = "r.yaml",
): Diagnostic {
  return { file, line, col, rule, severity, message };
}

export async function makeTempDir(prefix = "ports-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A temporary root whose registry, at the default path, holds `source`. */
export async function makeRegistryRoot(source: string, prefix = "ports-"): Promise<string> {
  const root = await makeTempDir(prefix);
  await mkdir(join(root, "config", "ports"), { recursive: true });
  await writeFile(join(root, "config", "ports", "registry.yaml"), source);
  return root;
}

/** Copies `fixtures/<task>/<case>/` into a fresh temp directory and returns that directory. */
export async function copyFixture(relative: string): Promise<string> {
  const directory = await makeTempDir();
  await cp(join(FIXTURES, relative), directory, { recursive: true });
  return directory;
}

export async function removeDir(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true });
}

export type TaskResult = { stdout: string; stderr: string; exitCode: number };

/** The environment of a task run: no colour, UTC; `env` adds variables, an undefined value removes one. */
function taskEnv(env: Record<string, string | undefined>): Record<string, string> {
  const merged: Record<string, string | undefined> = {
    ...process.env,
    FORCE_COLOR: undefined,
    CI: undefined,
    NO_COLOR: "1",
    TZ: "Etc/UTC",
    ...env,
  };
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(merged)) if (value !== undefined) childEnv[key] = value;
  return childEnv;
}

/**
 * Runs `bun tasks/<task>.ts ARGS` the way a user does, without colour and in UTC. `env` adds
 * variables; an undefined value removes one (for example NO_COLOR, to test colour).
 */
export function runTask(
  task: string,
  args: string[],
  cwd = REPO,
  env: Record<string, string | undefined> = {},
): TaskResult {
  const result = Bun.spawnSync([process.execPath, join(REPO, "tasks", `${task}.ts`), ...args], {
    cwd,
    env: taskEnv(env),
    stdout: "pipe",
    stderr: "pipe",
  });
  return {
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
    exitCode: result.exitCode ?? -1,
  };
}

/** `runTask` without blocking this process (for tests whose own listeners must keep answering). */
export async function runTaskAsync(
  task: string,
  args: string[],
  cwd = REPO,
  env: Record<string, string | undefined> = {},
): Promise<TaskResult> {
  return spawnAsync([process.execPath, join(REPO, "tasks", `${task}.ts`), ...args], cwd, taskEnv(env));
}

/**
 * A command prefix that makes file permissions apply to this user: root ignores them, so as root
 * it drops the capabilities that override them (setpriv, util-linux); anyone else needs nothing.
 */
export function permissionsApply(): string[] {
  if (process.getuid?.() !== 0) return [];
  const caps = "-dac_override,-dac_read_search,-fowner";
  return ["setpriv", `--bounding-set=${caps}`, `--inh-caps=${caps}`];
}

/** Any command, without blocking this process; `env` is the child's whole environment. */
export async function spawnAsync(
  command: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<TaskResult> {
  const child = Bun.spawn(command, { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { stdout, stderr, exitCode };
}
