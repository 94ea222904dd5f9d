/**
 * Disk side of sync: compare planned outputs with disk, and write them atomically, confined to
 * the repository root. Nothing is written through a symlink or outside the root.
 */
import { randomBytes } from "node:crypto";
import {
  chmod,
  lstat,
  mkdir,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { compareCodeUnits } from "./derive.ts";
import { IoError } from "./errors.ts";
import { COMPOSE_FILE_PATTERN, GENERATED_MARKER, OUTPUT_PATHS, type Output } from "./render.ts";
import { unifiedDiff } from "./text-diff.ts";

export type FileState = "unchanged" | "stale" | "missing" | "orphaned";

export type FileStatus = {
  path: string;
  state: FileState;
  /** Unified diff from disk to the planned content (empty for unchanged files). */
  diff: string;
  isModeOnly?: boolean;
};

/**
 * Refuses a relative output path that is absolute, climbs out with `..`, or passes through a
 * symlink anywhere below the root. Returns the absolute target.
 */
export async function resolveConfined(root: string, path: string): Promise<string> {
  if (isAbsolute(path) || path.split(/[\\/]/).includes("..") || path.includes("\0")) {
    throw new IoError(`refusing to write ${path}: outside the repository root`);
  }
  const absoluteRoot = resolve(root);
  const target = resolve(absoluteRoot, path);
  const rel = relative(absoluteRoot, target);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new IoError(`refusing to write ${path}: outside the repository root`);
  }
  let current = absoluteRoot;
  for (const part of rel.split(sep)) {
    current = join(current, part);
    const info = await lstat(current).catch(() => undefined);
    if (!info) break;
    if (info.isSymbolicLink())
      throw new IoError(`refusing to write ${path}: ${relative(absoluteRoot, current)} is a symlink`);
  }
  const realRoot = await realpath(absoluteRoot);
  let existing = dirname(target);
  while (!(await stat(existing).catch(() => undefined))) existing = dirname(existing);
  const realParent = await realpath(existing);
  if (realParent !== realRoot && !realParent.startsWith(realRoot + sep)) {
    throw new IoError(`refusing to write ${path}: it resolves outside the repository root`);
  }
  return target;
}

async function readIfExists(path: string): Promise<{ content: string; mode: number } | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return undefined;
  if (!info.isFile()) throw new IoError(`${path} exists but is not a regular file`);
  return { content: await readFile(path, "utf8"), mode: info.mode & 0o777 };
}

/** Generated compose files on disk whose stack is gone: recognised by name and header. */
export async function findOrphans(root: string, outputs: readonly Output[]): Promise<string[]> {
  const planned = new Set(outputs.map((output) => output.path));
  const directory = join(root, OUTPUT_PATHS.composeDir);
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  const orphans: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !COMPOSE_FILE_PATTERN.test(entry.name)) continue;
    const path = `${OUTPUT_PATHS.composeDir}/${entry.name}`;
    if (planned.has(path)) continue;
    const head = (await readFile(join(directory, entry.name), "utf8")).slice(0, 400);
    if (head.includes(GENERATED_MARKER)) orphans.push(path);
  }
  return orphans.sort(compareCodeUnits);
}

export type CompareOptions = {
  /** Compute unified diffs (for --check); a plain sync only needs the states. Default true. */
  withDiff?: boolean;
};

export async function compareOutputs(
  root: string,
  outputs: readonly Output[],
  options: CompareOptions = {},
): Promise<FileStatus[]> {
  const diffOf = options.withDiff === false ? () => "" : unifiedDiff;
  const statuses: FileStatus[] = [];
  for (const output of outputs) {
    const target = await resolveConfined(root, output.path);
    const existing = await readIfExists(target);
    if (!existing) {
      statuses.push({
        path: output.path,
        state: "missing",
        diff: diffOf("", output.content, output.path),
      });
    } else if (existing.content !== output.content) {
      statuses.push({
        path: output.path,
        state: "stale",
        diff: diffOf(existing.content, output.content, output.path),
      });
    } else if (existing.mode !== output.mode) {
      statuses.push({
        path: output.path,
        state: "stale",
        diff: `${output.path}: mode ${existing.mode.toString(8)} should be ${output.mode.toString(8)}\n`,
        isModeOnly: true,
      });
    } else {
      statuses.push({ path: output.path, state: "unchanged", diff: "" });
    }
  }
  for (const orphan of await findOrphans(root, outputs)) {
    const content = await readFile(join(root, orphan), "utf8");
    statuses.push({ path: orphan, state: "orphaned", diff: diffOf(content, "", orphan) });
  }
  return statuses.sort((a, b) => compareCodeUnits(a.path, b.path));
}

/** Writes to a temporary file in the same directory, then renames it over the target. */
export async function writeFileAtomic(
  root: string,
  path: string,
  content: string,
  mode = 0o644,
): Promise<void> {
  const target = await resolveConfined(root, path);
  await mkdir(dirname(target), { recursive: true });
  await resolveConfined(root, path);
  const temporary = join(dirname(target), `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temporary, content, { mode, flag: "wx" });
    await chmod(temporary, mode);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Applies the statuses: writes stale and missing files, deletes orphans, touches nothing else.
 * Every target is confined before the first write, so a refused path writes nothing at all.
 */
export async function applyOutputs(
  root: string,
  outputs: readonly Output[],
  statuses: readonly FileStatus[],
): Promise<void> {
  const byPath = new Map(outputs.map((output) => [output.path, output]));
  for (const status of statuses) await resolveConfined(root, status.path);
  for (const status of statuses) {
    if (status.state === "orphaned") {
      await rm(await resolveConfined(root, status.path));
      continue;
    }
    const output = byPath.get(status.path);
    if (!output) continue;
    if (status.isModeOnly) {
      await chmod(await resolveConfined(root, status.path), output.mode);
    } else if (status.state === "stale" || status.state === "missing") {
      await writeFileAtomic(root, output.path, output.content, output.mode);
    }
  }
}
