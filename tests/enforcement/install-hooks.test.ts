/**
 * The prepare script installs the hooks on `npm ci` in a developer's clone, and skips cleanly under
 * CI=true, with LEFTHOOK=0, outside a git repository, and below another repository's top level.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { planHookInstall } from "../../lib/hook-install.ts";
import type { InstallHooksReport } from "../../tasks/install-hooks.ts";
import { developerEnv, runIn, TOOLKIT_ROOT } from "./toolkit-repo.ts";

// Each test spawns git commits and their hooks; on a loaded 2-core machine that takes seconds.
setDefaultTimeout(60_000);

const packageJson = JSON.parse(readFileSync(join(TOOLKIT_ROOT, "package.json"), "utf8"));

/** A checkout without .git, as from a tarball: the toolkit files plus node_modules. */
function createPlainCheckout(parent: string, name: string): string {
  const root = join(parent, name);
  mkdirSync(root, { recursive: true });
  for (const path of ["tasks", "lib", "templates", "config", "package.json", "lefthook.yml"]) {
    cpSync(join(TOOLKIT_ROOT, path), join(root, path), { recursive: true });
  }
  symlinkSync(join(TOOLKIT_ROOT, "node_modules"), join(root, "node_modules"), "dir");
  return root;
}

let workspace: string;
beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), "port-governance-install-"));
});
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

describe("the prepare script", () => {
  test("is the install-hooks task", () => {
    expect(packageJson.scripts.prepare).toBe("bun tasks/install-hooks.ts");
  });

  test("npm ci accepts the lockfile (an offline dry run), so the install that runs prepare can start", () => {
    const root = join(workspace, "lockfile");
    mkdirSync(root);
    for (const file of ["package.json", "package-lock.json"])
      cpSync(join(TOOLKIT_ROOT, file), join(root, file));
    const result = runIn(
      root,
      ["npm", "ci", "--dry-run", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"],
      developerEnv(),
    );
    expect(result.output).not.toContain("npm error");
    expect(result.exitCode).toBe(0);
  });

  test("outside a git repository, npm run prepare skips and exits 0", () => {
    const root = createPlainCheckout(workspace, "tarball");
    const result = runIn(root, ["npm", "run", "--silent", "prepare"], developerEnv());
    expect({ exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }).toEqual({
      exitCode: 0,
      stdout: "hooks: not installed: not a git repository\n",
      stderr: "",
    });
  });

  test("lefthook's own postinstall does not fail an install outside a git repository either", () => {
    const root = createPlainCheckout(workspace, "tarball-postinstall");
    const result = runIn(
      root,
      ["node", join(TOOLKIT_ROOT, "node_modules", "lefthook", "postinstall.js")],
      developerEnv({ INIT_CWD: root }),
    );
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(root, ".git"))).toBe(false);
  });

  test("under CI=true it skips, even in a git repository", () => {
    const root = createPlainCheckout(workspace, "ci");
    runIn(root, ["git", "init", "-q"], developerEnv());
    const result = runIn(root, ["bun", "tasks/install-hooks.ts"], developerEnv({ CI: "true" }));
    expect({ exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }).toEqual({
      exitCode: 0,
      stdout: "hooks: not installed: CI is set\n",
      stderr: "",
    });
    expect(existsSync(join(root, ".git", "hooks", "pre-commit"))).toBe(false);
  });

  test("LEFTHOOK=0 skips, with --json", () => {
    const root = createPlainCheckout(workspace, "opt-out");
    runIn(root, ["git", "init", "-q"], developerEnv());
    const result = runIn(root, ["bun", "tasks/install-hooks.ts", "--json"], developerEnv({ LEFTHOOK: "0" }));
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout) as InstallHooksReport).toEqual({
      status: "skipped",
      reason: "LEFTHOOK=0",
    });
  });

  test("in a subdirectory of another repository it skips instead of writing that repository's hooks", () => {
    const outer = join(workspace, "monorepo");
    mkdirSync(outer);
    runIn(outer, ["git", "init", "-q"], developerEnv());
    const root = createPlainCheckout(outer, "tools-ports");
    const result = runIn(root, ["bun", "tasks/install-hooks.ts"], developerEnv());
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toStartWith(`hooks: not installed: the git work tree starts at ${outer}, not here`);
    expect(existsSync(join(outer, ".git", "hooks", "pre-commit"))).toBe(false);
  });

  test("in a developer's clone it installs the pre-commit and pre-push launchers", () => {
    const root = createPlainCheckout(workspace, "clone");
    runIn(root, ["git", "init", "-q"], developerEnv());
    const result = runIn(root, ["npm", "run", "--silent", "prepare"], developerEnv());
    expect({ exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }).toEqual({
      exitCode: 0,
      stdout: "hooks: installed pre-commit and pre-push from lefthook.yml\n",
      stderr: "",
    });
    for (const hook of ["pre-commit", "pre-push"]) {
      expect(readFileSync(join(root, ".git", "hooks", hook), "utf8")).toContain(
        `call_lefthook run "${hook}"`,
      );
    }
  });

  test("a failing lefthook install warns with the retry command and still exits 0", () => {
    const root = createPlainCheckout(workspace, "husky");
    runIn(root, ["git", "init", "-q"], developerEnv());
    runIn(root, ["git", "config", "core.hooksPath", ".husky"], developerEnv());
    const result = runIn(root, ["bun", "tasks/install-hooks.ts"], developerEnv());
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toStartWith(
      "hooks: warning: lefthook install failed, so commits are not checked locally:\n",
    );
    expect(result.stderr).toContain("core.hooksPath");
    expect(result.stderr).toEndWith("hooks: fix the cause above, then run: npx lefthook install\n");
  });
});

describe("planHookInstall", () => {
  const base = { root: "/repo", env: {}, gitTopLevel: "/repo", lefthook: "/repo/node_modules/.bin/lefthook" };

  test("installs in a developer's clone", () => {
    expect(planHookInstall(base)).toEqual({
      action: "install",
      lefthook: "/repo/node_modules/.bin/lefthook",
    });
  });

  test("CI counts when set to anything but empty, 0 or false", () => {
    for (const value of ["true", "1", "yes"]) {
      expect(planHookInstall({ ...base, env: { CI: value } })).toEqual({
        action: "skip",
        reason: "CI is set",
      });
    }
    for (const value of ["", "0", "false"]) {
      expect(planHookInstall({ ...base, env: { CI: value } }).action).toBe("install");
    }
  });

  test("skips without lefthook, and says how to get it", () => {
    expect(planHookInstall({ ...base, lefthook: undefined })).toEqual({
      action: "skip",
      reason: "lefthook is not installed (it is a devDependency: run npm ci)",
    });
  });

  test("checks the reasons in order: CI, LEFTHOOK, git, top level, lefthook", () => {
    expect(planHookInstall({ ...base, env: { CI: "true", LEFTHOOK: "0" }, gitTopLevel: undefined })).toEqual({
      action: "skip",
      reason: "CI is set",
    });
    expect(planHookInstall({ ...base, env: { LEFTHOOK: "false" }, gitTopLevel: undefined })).toEqual({
      action: "skip",
      reason: "LEFTHOOK=false",
    });
    expect(planHookInstall({ ...base, gitTopLevel: undefined, lefthook: undefined })).toEqual({
      action: "skip",
      reason: "not a git repository",
    });
  });
});
