/**
 * Test plumbing for the scanner: fixture copies in temp roots, the task spawned as a user runs it,
 * and a real temporary git repository.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTask } from "../core/support.ts";

export const REPO = join(import.meta.dir, "..", "..");
export const FIXTURES = join(REPO, "fixtures", "scan-hardcoded");
export const REGISTRY = join(FIXTURES, "registry.yaml");

const roots: string[] = [];

/** An empty temp root, removed by `removeTempRoots`. */
export function createTempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "scan-hardcoded-"));
  roots.push(root);
  return root;
}

export function removeTempRoots(): void {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
}

/** A temp copy of `fixtures/scan-hardcoded/<name>`, with the fixture registry at its default path. */
export function copyFixture(name: string, withRegistry = true): string {
  const root = createTempRoot();
  cpSync(join(FIXTURES, name), root, { recursive: true, verbatimSymlinks: true });
  rmSync(join(root, "expected.txt"), { force: true });
  return withRegistry ? addFixtureRegistry(root) : root;
}

/** Puts the fixture registry at the default path under `root`. */
function addFixtureRegistry(root: string): string {
  mkdirSync(join(root, "config", "ports"), { recursive: true });
  cpSync(REGISTRY, join(root, "config", "ports", "registry.yaml"));
  return root;
}

/** A temp root holding only the fixture registry, at its default path. */
export function registryRoot(): string {
  return addFixtureRegistry(createTempRoot());
}

export type Run = { stdout: string; stderr: string; exitCode: number };

/** `bun tasks/scan-hardcoded.ts ARGS` in `cwd`, with NO_COLOR and a fixed time zone. */
export function runScan(args: string[], cwd: string, env: Record<string, string> = {}): Run {
  return runTask("scan-hardcoded", args, cwd, env);
}

export function git(root: string, ...args: string[]): string {
  const result = Bun.spawnSync(["git", "-C", root, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.invalid",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.invalid",
      GIT_CONFIG_NOSYSTEM: "1",
      HOME: root,
    },
  });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

/** A real git repository in a temp root, with the fixture registry committed at its default path. */
export function createGitRepo(): string {
  const root = createTempRoot();
  git(root, "init", "-q", "-b", "main");
  git(root, "config", "core.hooksPath", "/dev/null");
  mkdirSync(join(root, "config", "ports"), { recursive: true });
  cpSync(REGISTRY, join(root, "config", "ports", "registry.yaml"));
  git(root, "add", "config/ports/registry.yaml");
  git(root, "commit", "-q", "-m", "registry");
  return root;
}

/** The fixed closing lines of a text report with findings. */
export const HINT_LINES = [
  "Fix: read the port from .env.shared through the variable each message names (unregistered ports: npm run ports:new first).",
  'Keep a literal on purpose: add "ports:allow <reason>" in a comment on that line or the line above; for many old findings at once: --update-baseline, then scan with --baseline.',
];
