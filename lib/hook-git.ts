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
 * Copies the files under `paths` as commit `ref` has them into `target` (the executable bit
 * included), for checks that must see what is pushed, not the work tree. Paths the commit lacks
 * are skipped. The blobs are read as they are: no export attributes (`export-ignore`,
 * `export-subst`) and no umask change what a check compares.
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
  const listed = runGit(root, ["ls-tree", "-r", "-z", ref, "--", ...paths]);
  if (listed.exitCode !== 0) throw new IoError(`cannot list the files of ${ref}: ${listed.stderr.trim()}`);
  const entries = parseTree(listed.stdout);
  if (entries.length === 0) return;
  const batch = Bun.spawnSync(["git", "cat-file", "--batch"], {
    cwd: root,
    stdin: new TextEncoder().encode(`${entries.map((entry) => entry.object).join("\n")}\n`),
    stdout: "pipe",
    stderr: "pipe",
  });
  if (batch.exitCode !== 0) {
    throw new IoError(`cannot read the files of ${ref}: ${batch.stderr.toString().trim().split("\n")[0]}`);
  }
  const contents = splitBatch(batch.stdout);
  const { mkdirSync, symlinkSync, writeFileSync } = await import("node:fs");
  const { dirname, join } = await import("node:path");
  entries.forEach((entry, position) => {
    const content = contents[position];
    if (!content) throw new IoError(`cannot read ${entry.path} of ${ref}`);
    const file = join(target, entry.path);
    mkdirSync(dirname(file), { recursive: true });
    if (entry.mode === "120000") symlinkSync(content.toString(), file);
    else writeFileSync(file, content, { mode: entry.mode === "100755" ? 0o755 : 0o644 });
  });
}

type TreeEntry = { mode: string; object: string; path: string };

/** `ls-tree -z` lines (`mode type object<TAB>path`), blobs only: submodules have no content here. */
function parseTree(output: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const line of splitNul(output)) {
    const tab = line.indexOf("\t");
    const [mode, type, object] = line.slice(0, tab).split(" ");
    const path = line.slice(tab + 1);
    if (type !== "blob" || !mode || !object || path.split("/").includes("..")) continue;
    entries.push({ mode, object, path });
  }
  return entries;
}

/** The contents of a `cat-file --batch` answer (`object type size`, the bytes, a newline), in order. */
function splitBatch(output: Uint8Array): Buffer[] {
  const bytes = Buffer.from(output.buffer, output.byteOffset, output.byteLength);
  const contents: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const headerEnd = bytes.indexOf(10, at);
    if (headerEnd < 0) break;
    const size = Number(bytes.toString("latin1", at, headerEnd).split(" ")[2]);
    if (!Number.isInteger(size)) break;
    contents.push(bytes.subarray(headerEnd + 1, headerEnd + 1 + size));
    at = headerEnd + 1 + size + 1;
  }
  return contents;
}
