/**
 * Whether `npm ci` / `bun install` (through the `prepare` script) should install the git hooks,
 * and doing it with the project's own lefthook. Nothing here prints.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { findGitTopLevel } from "./hook-git.ts";

export type HookInstallPlan = { action: "install"; lefthook: string } | { action: "skip"; reason: string };

function isEnabled(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value !== "0" && value !== "false";
}

/**
 * Skips under CI (hooks are for people; CI runs the workflow), when LEFTHOOK=0, outside a git work
 * tree, when the toolkit is not the work tree's top level (lefthook would look for its config
 * there), and when lefthook is not installed.
 */
export function planHookInstall(input: {
  root: string;
  env: Record<string, string | undefined>;
  gitTopLevel: string | undefined;
  lefthook: string | undefined;
}): HookInstallPlan {
  if (isEnabled(input.env.CI)) return { action: "skip", reason: "CI is set" };
  const lefthookVar = input.env.LEFTHOOK;
  if (lefthookVar === "0" || lefthookVar === "false") {
    return { action: "skip", reason: `LEFTHOOK=${lefthookVar}` };
  }
  if (input.gitTopLevel === undefined) return { action: "skip", reason: "not a git repository" };
  if (resolve(input.gitTopLevel) !== resolve(input.root)) {
    return {
      action: "skip",
      reason: `the git work tree starts at ${input.gitTopLevel}, not here; lefthook reads lefthook.yml from there`,
    };
  }
  if (input.lefthook === undefined) {
    return { action: "skip", reason: "lefthook is not installed (it is a devDependency: run npm ci)" };
  }
  return { action: "install", lefthook: input.lefthook };
}

/** The project's lefthook launcher, if `node_modules` has one. */
export function findLefthook(root: string): string | undefined {
  const path = join(root, "node_modules", ".bin", "lefthook");
  return existsSync(path) ? path : undefined;
}

export function detectHookInstall(root: string, env: Record<string, string | undefined>): HookInstallPlan {
  return planHookInstall({ root, env, gitTopLevel: findGitTopLevel(root), lefthook: findLefthook(root) });
}

export type LefthookRun = { exitCode: number; output: string };

/** Runs `lefthook install` in `root`; lefthook writes one launcher per hook in lefthook.yml. */
export function runLefthookInstall(
  root: string,
  lefthook: string,
  env: Record<string, string | undefined>,
): LefthookRun {
  const result = Bun.spawnSync([lefthook, "install"], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...env, NO_COLOR: "1" },
  });
  return {
    exitCode: result.exitCode ?? 1,
    output: `${result.stdout?.toString() ?? ""}${result.stderr?.toString() ?? ""}`.trim(),
  };
}
