/**
 * Git plumbing for the hooks: where the repository is, what a staged file holds, which generated
 * files differ from the index, and staging them. Git runs with the caller's environment, so inside
 * a hook `GIT_INDEX_FILE` points at the index of the commit being made. Nothing here prints.
 */
import { basename } from "node:path";
import { IoError, UsageError } from "./errors.ts";

export type GitResult = { exitCode: number; stdout: string; stderr: string };

export function runGit(root: string, args: string[]): GitResult {
  let result: ReturnType<typeof Bun.spawnSync>;
  try {
    result = Bun.spawnSync(["git", ...args], { cwd: root, stdout: "pipe", stderr: "pipe" });
  } catch {
    return { exitCode: 127, stdout: "", stderr: "git is not installed or not on PATH" };
  }
  return {
    exitCode: result.exitCode ?? 1,
    stdout: result.stdout?.toString() ?? "",
    stderr: result.stderr?.toString() ?? "",
  };
}

/** The work tree's top-level directory, or undefined outside a git work tree (or without git). */
export function findGitTopLevel(root: string): string | undefined {
  const result = runGit(root, ["rev-parse", "--show-toplevel"]);
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/**
 * True inside a hook of `git commit <paths>` (or `--only`): git commits from a temporary index
 * named `next-index-<pid>.lock`, and files a hook stages there do not reach the user's index.
 */
export function isPathLimitedCommit(env: Record<string, string | undefined>): boolean {
  return basename(env.GIT_INDEX_FILE ?? "").startsWith("next-index-");
}

/** True when the file on disk differs from its staged version (for example after `git add -p`). */
export function hasUnstagedChanges(root: string, path: string): boolean {
  const result = runGit(root, ["diff", "--quiet", "--", path]);
  if (result.exitCode > 1) throw new IoError(`git could not compare ${path}: ${firstLine(result)}`);
  return result.exitCode === 1;
}

function splitNul(text: string): string[] {
  return text.split("\0").filter((entry) => entry !== "");
}

/**
 * Paths among `paths` whose work-tree state is not what the index holds: modified, deleted, or new
 * and not ignored. These are the files `git add -A` would change.
 */
export function listUnstagedPaths(root: string, paths: readonly string[]): string[] {
  if (paths.length === 0) return [];
  const changed = runGit(root, ["diff", "--name-only", "-z", "--no-renames", "--", ...paths]);
  const untracked = runGit(root, ["ls-files", "-z", "--others", "--exclude-standard", "--", ...paths]);
  for (const result of [changed, untracked]) {
    if (result.exitCode !== 0) throw new IoError(`git could not list changed files: ${firstLine(result)}`);
  }
  return [...new Set([...splitNul(changed.stdout), ...splitNul(untracked.stdout)])].sort();
}

/** `git add -A` for exactly these paths (additions, modifications and deletions). */
export function stagePaths(root: string, paths: readonly string[]): void {
  if (paths.length === 0) return;
  const result = runGit(root, ["add", "-A", "--", ...paths]);
  if (result.exitCode !== 0) throw new IoError(`git add failed: ${firstLine(result)}`);
}

function firstLine(result: GitResult): string {
  return (result.stderr.trim() || result.stdout.trim()).split("\n")[0] ?? `exit ${result.exitCode}`;
}

/**
 * Copies the files under `paths` as commit `ref` has them into `target` (modes included), for
 * checks that must see what is pushed, not the work tree. Paths the commit lacks are skipped.
 */
export async function exportCommittedFiles(
  root: string,
  ref: string,
  paths: readonly string[],
  target: string,
): Promise<void> {
  if (
    ref.startsWith("-") ||
    runGit(root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).exitCode !== 0
  ) {
    throw new UsageError(`--ref ${ref}: not a commit of the repository at ${root}`);
  }
  const listed = runGit(root, ["ls-tree", "-r", "-z", "--name-only", ref, "--", ...paths]);
  if (listed.exitCode !== 0) throw new IoError(`cannot list the files of ${ref}: ${listed.stderr.trim()}`);
  const files = listed.stdout.split("\0").filter((path) => path !== "");
  if (files.length === 0) return;
  // tar.umask 022: the modes git records (644, 755), not its default group-writable ones.
  const archive = Bun.spawn(["git", "-c", "tar.umask=022", "archive", "--format=tar", ref, "--", ...files], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
  });
  const untar = Bun.spawn(["tar", "-x", "-C", target], { stdin: archive.stdout, stderr: "pipe" });
  const [archived, untarred] = await Promise.all([archive.exited, untar.exited]);
  if (archived !== 0 || untarred !== 0) {
    const reason = (await new Response(archive.stderr).text()) || (await new Response(untar.stderr).text());
    throw new IoError(
      `cannot export the files of ${ref}: ${reason.trim().split("\n")[0] ?? "git archive failed"}`,
    );
  }
}
