/**
 * A throwaway git repository holding a copy of the toolkit (node_modules symlinked from this
 * checkout), optionally with the lefthook hooks installed. Used by the hook tests, the documents
 * test and bench/hooks.ts.
 */
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const TOOLKIT_ROOT = resolve(import.meta.dir, "../..");

/** What a project adopting the toolkit has: sources, templates, registry, generated files, configs. */
const COPIED_PATHS = [
  "tasks",
  "lib",
  "templates",
  "config",
  "tools",
  "docs",
  "scripts",
  ".env.shared",
  ".gitattributes",
  ".gitignore",
  "package.json",
  "lefthook.yml",
  "biome.json",
  "tsconfig.json",
  "bunfig.toml",
  "README.md",
  "MIGRATION.md",
  "TROUBLESHOOTING.md",
];

export type RunResult = { exitCode: number; stdout: string; stderr: string; output: string };

export type ToolkitRepo = {
  root: string;
  env: Record<string, string>;
  run: (command: string[], options?: { env?: Record<string, string | undefined> }) => RunResult;
  git: (...args: string[]) => RunResult;
  write: (path: string, text: string) => void;
  remove: () => void;
};

const BIN = join(TOOLKIT_ROOT, "node_modules", ".bin");

/**
 * The environment of a commit from a developer's shell: no CI, no colour, hooks enabled, and no
 * node_modules/.bin on PATH (npm puts it there for `npm test`; a terminal does not have it).
 */
export function developerEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const path = (process.env.PATH ?? "")
    .split(":")
    .filter((entry) => entry !== "" && !entry.endsWith("node_modules/.bin"))
    .join(":");
  const env: Record<string, string | undefined> = {
    ...process.env,
    NO_COLOR: "1",
    TZ: "Etc/UTC",
    PATH: path,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_DATE: "2025-01-01T00:00:00Z",
    GIT_COMMITTER_DATE: "2025-01-01T00:00:00Z",
    ...extra,
  };
  for (const name of ["CI", "LEFTHOOK", "LEFTHOOK_CONFIG", "GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE"]) {
    if (!(name in extra)) delete env[name];
  }
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/** Runs a command; `bun`, `lefthook` and `action-validator` are the toolkit's own, from node_modules. */
export function runIn(root: string, command: string[], env: Record<string, string>): RunResult {
  const [program = "", ...args] = command;
  const resolved = ["bun", "lefthook", "action-validator"].includes(program) ? join(BIN, program) : program;
  const result = Bun.spawnSync([resolved, ...args], { cwd: root, env, stdout: "pipe", stderr: "pipe" });
  const stdout = result.stdout.toString();
  const stderr = result.stderr.toString();
  return { exitCode: result.exitCode ?? 1, stdout, stderr, output: `${stdout}${stderr}` };
}

/**
 * Copies the toolkit into a new temporary git repository and commits it (without hooks). With
 * `hasHooks`, then installs the hooks the way `npm ci` does, through the prepare script's task.
 */
export function createToolkitRepo(options: { hasHooks: boolean; prefix?: string }): ToolkitRepo {
  const root = mkdtempSync(join(tmpdir(), options.prefix ?? "port-governance-repo-"));
  for (const path of COPIED_PATHS) {
    const source = join(TOOLKIT_ROOT, path);
    if (existsSync(source)) cpSync(source, join(root, path), { recursive: true, verbatimSymlinks: true });
  }
  symlinkSync(join(TOOLKIT_ROOT, "node_modules"), join(root, "node_modules"), "dir");
  const env = developerEnv();
  const run: ToolkitRepo["run"] = (command, runOptions) =>
    runIn(root, command, runOptions?.env ? developerEnv(runOptions.env) : env);
  const git = (...args: string[]) => run(["git", ...args]);
  const mustGit = (...args: string[]) => {
    const result = git(...args);
    if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed in ${root}:\n${result.output}`);
  };
  mustGit("init", "-q", "-b", "main");
  for (const [key, value] of [
    ["user.name", "Port Governance Test"],
    ["user.email", "ports@example.test"],
    ["commit.gpgsign", "false"],
    ["core.autocrlf", "false"],
  ] as const) {
    mustGit("config", key, value);
  }
  // The symlinked node_modules is a file to git, which `node_modules/` in .gitignore does not match.
  writeFileSync(join(root, ".git", "info", "exclude"), "node_modules\n");
  mustGit("add", "-A");
  mustGit("commit", "-q", "--no-verify", "-m", "Adopt port governance");
  if (options.hasHooks) {
    const install = run(["bun", "tasks/install-hooks.ts"]);
    if (install.exitCode !== 0 || !install.stdout.includes("installed")) {
      throw new Error(`installing hooks failed in ${root}:\n${install.output}`);
    }
  }
  return {
    root,
    env,
    run,
    git,
    write: (path, text) => writeFileSync(join(root, path), text),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
