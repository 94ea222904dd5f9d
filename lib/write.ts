/**
 * Disk side of sync: compare planned outputs with disk, and write them atomically, confined to
 * the repository root. Nothing is written through a symlink or outside the root.
 */
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { compareCodeUnits } from "./derive.ts";
import { describeErrorCode, IoError } from "./errors.ts";
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
 * Confines relative output paths to one root. Directories already proven (no symlink on the way,
 * real path inside the root) are remembered for the run, so a sync of a hundred files in four
 * directories checks each directory once; the file itself is checked every time.
 */
export class Confinement {
  readonly root: string;
  readonly #realRoot: string;
  readonly #provenDirectories = new Set<string>();

  constructor(root: string) {
    this.root = resolve(root);
    try {
      this.#realRoot = realpathSync(this.root);
    } catch {
      throw new IoError(`${this.root}: the repository root does not exist`);
    }
  }

  /** The absolute target of `path`, or an IoError if it leaves the root or passes a symlink. */
  resolve(path: string): string {
    if (isAbsolute(path) || path.split(/[\\/]/).includes("..") || path.includes("\0")) {
      throw new IoError(`refusing to write ${path}: outside the repository root`);
    }
    const target = resolve(this.root, path);
    const rel = relative(this.root, target);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
      throw new IoError(`refusing to write ${path}: outside the repository root`);
    }
    const directory = dirname(target);
    if (!this.#provenDirectories.has(directory)) this.#proveDirectory(path, directory);
    if (lstatSync(target, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new IoError(`refusing to write ${path}: ${rel} is a symlink`);
    }
    return target;
  }

  /**
   * Creates the directory of `target` (after `resolve`) and proves what it created. Returns the
   * first directory it had to create (undefined when it existed), for a rollback.
   */
  makeDirectory(path: string, target: string): string | undefined {
    const directory = dirname(target);
    if (lstatSync(directory, { throwIfNoEntry: false })?.isDirectory()) return undefined;
    const created = mkdirSync(directory, { recursive: true });
    this.#provenDirectories.delete(directory);
    this.#proveDirectory(path, directory);
    return created;
  }

  #proveDirectory(path: string, directory: string): void {
    let current = this.root;
    let isMissing = false;
    for (const part of relative(this.root, directory).split(sep)) {
      if (part === "") break;
      current = join(current, part);
      const info = lstatSync(current, { throwIfNoEntry: false });
      if (!info) {
        isMissing = true;
        break;
      }
      if (info.isSymbolicLink()) {
        throw new IoError(`refusing to write ${path}: ${relative(this.root, current)} is a symlink`);
      }
      if (!info.isDirectory()) {
        throw new IoError(`cannot write ${path}: ${relative(this.root, current)} is not a directory`);
      }
    }
    let existing = directory;
    while (!lstatSync(existing, { throwIfNoEntry: false })) existing = dirname(existing);
    const realParent = realpathSync(existing);
    if (realParent !== this.#realRoot && !realParent.startsWith(this.#realRoot + sep)) {
      throw new IoError(`refusing to write ${path}: it resolves outside the repository root`);
    }
    if (!isMissing) this.#provenDirectories.add(directory);
  }
}

/**
 * Refuses a relative output path that is absolute, climbs out with `..`, or passes through a
 * symlink anywhere below the root. Returns the absolute target.
 */
export async function resolveConfined(root: string, path: string): Promise<string> {
  return new Confinement(root).resolve(path);
}

function readIfExists(path: string): { content: string; mode: number } | undefined {
  const info = lstatSync(path, { throwIfNoEntry: false });
  if (!info) return undefined;
  if (!info.isFile()) throw new IoError(`${path} exists but is not a regular file`);
  return { content: readFileSync(path, "utf8"), mode: info.mode & 0o777 };
}

/** Generated compose files on disk whose stack is gone: recognised by name and header. */
export async function findOrphans(root: string, outputs: readonly Output[]): Promise<string[]> {
  const planned = new Set(outputs.map((output) => output.path));
  const directory = join(root, OUTPUT_PATHS.composeDir);
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(directory, { withFileTypes: true });
  } catch {
    return [];
  }
  const orphans: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !COMPOSE_FILE_PATTERN.test(entry.name)) continue;
    const path = `${OUTPUT_PATHS.composeDir}/${entry.name}`;
    if (planned.has(path)) continue;
    const head = readFileSync(join(directory, entry.name), "utf8").slice(0, 400);
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
  const confinement = new Confinement(root);
  const statuses: FileStatus[] = [];
  for (const output of outputs) {
    const existing = readIfExists(confinement.resolve(output.path));
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
    } else if (isExecutable(existing.mode) !== isExecutable(output.mode)) {
      // Git records only the executable bit: a umask's 664 or 600 is no difference to commit.
      const should = isExecutable(output.mode) ? "should be executable" : "should not be executable";
      statuses.push({
        path: output.path,
        state: "stale",
        diff: `${output.path}: mode ${existing.mode.toString(8)} ${should} (${output.mode.toString(8)})\n`,
        isModeOnly: true,
      });
    } else {
      statuses.push({ path: output.path, state: "unchanged", diff: "" });
    }
  }
  for (const orphan of await findOrphans(root, outputs)) {
    const content = readFileSync(join(root, orphan), "utf8");
    statuses.push({ path: orphan, state: "orphaned", diff: diffOf(content, "", orphan) });
  }
  return statuses.sort((a, b) => compareCodeUnits(a.path, b.path));
}

/** The owner's executable bit: the only part of a file's mode that git records. */
function isExecutable(mode: number): boolean {
  return (mode & 0o100) !== 0;
}

function temporaryName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return `.${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}.tmp`;
}

/** A file written next to its target, waiting for the rename that puts it in place. */
type Staged = { temporary: string; target: string };

/** Writes `content` to a temporary file beside the target of `path` (mode set, not yet renamed). */
function stageConfined(
  confinement: Confinement,
  path: string,
  content: string,
  mode: number,
  createdDirectories: string[],
): Staged {
  const target = confinement.resolve(path);
  let created: string | undefined;
  try {
    created = confinement.makeDirectory(path, target);
  } catch (error) {
    if (error instanceof IoError) throw error;
    throw new IoError(
      `cannot create the directory of ${path} (${describeErrorCode(error) ?? String(error)})`,
    );
  }
  if (created) createdDirectories.push(created);
  const temporary = join(dirname(target), temporaryName());
  try {
    writeFileSync(temporary, content, { mode, flag: "wx" });
    chmodSync(temporary, mode);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new IoError(`cannot write ${path} (${describeErrorCode(error) ?? String(error)})`);
  }
  return { temporary, target };
}

function writeConfined(confinement: Confinement, path: string, content: string, mode: number): void {
  const staged = stageConfined(confinement, path, content, mode, []);
  try {
    renameSync(staged.temporary, staged.target);
  } catch (error) {
    rmSync(staged.temporary, { force: true });
    throw error;
  }
}

/**
 * Undoes a failed sync before any rename into place: the temporary files, the orphans set aside
 * (renamed back), then the directories it created.
 */
function rollBack(
  staged: readonly Staged[],
  createdDirectories: readonly string[],
  setAside: readonly Staged[] = [],
): string {
  for (const file of staged) rmSync(file.temporary, { force: true });
  const stranded: string[] = [];
  for (const orphan of setAside) {
    try {
      renameSync(orphan.temporary, orphan.target);
    } catch {
      stranded.push(`${orphan.target} is at ${orphan.temporary}`);
    }
  }
  for (const directory of [...createdDirectories].reverse()) {
    // Only what this run created, and only while it holds nothing else.
    removeEmptyTree(directory);
  }
  // What could not be put back is said, after the error that started the roll-back.
  return stranded.length > 0 ? `; could not put back: ${stranded.join(", ")}` : "";
}

function removeEmptyTree(directory: string): void {
  let entries: string[];
  try {
    entries = readdirSync(directory);
  } catch {
    return;
  }
  for (const entry of entries) {
    const child = join(directory, entry);
    if (lstatSync(child, { throwIfNoEntry: false })?.isDirectory()) removeEmptyTree(child);
  }
  try {
    rmdirSync(directory);
  } catch {
    // not empty: something else lives there now; leave it
  }
}

/** Writes to a temporary file in the same directory, then renames it over the target. */
export async function writeFileAtomic(
  root: string,
  path: string,
  content: string,
  mode = 0o644,
): Promise<void> {
  writeConfined(new Confinement(root), path, content, mode);
}

/**
 * Applies the statuses: writes stale and missing files, deletes orphans, touches nothing else.
 * All or nothing: every target is confined and every new file written beside its target before
 * the first rename, so a refused path or a failed write (permissions, a full disk) leaves the tree
 * as it was.
 */
export async function applyOutputs(
  root: string,
  outputs: readonly Output[],
  statuses: readonly FileStatus[],
): Promise<void> {
  const byPath = new Map(outputs.map((output) => [output.path, output]));
  const confinement = new Confinement(root);
  for (const status of statuses) confinement.resolve(status.path);
  const staged: Staged[] = [];
  const createdDirectories: string[] = [];
  // Orphans are renamed aside first (the same permission a deletion needs), deleted at the end.
  const setAside: Staged[] = [];
  try {
    for (const status of statuses) {
      if (status.state === "orphaned") {
        setAside.push(setOrphanAside(confinement, status.path));
        continue;
      }
      const output = byPath.get(status.path);
      // A wrong executable bit is fixed by a rewrite too: no chmod of a file another user owns.
      if (output && (status.state === "stale" || status.state === "missing")) {
        staged.push(stageConfined(confinement, output.path, output.content, output.mode, createdDirectories));
      }
    }
  } catch (error) {
    const stranded = rollBack(staged, createdDirectories, setAside);
    if (!(error instanceof IoError)) throw error;
    throw new IoError(stranded ? `${error.message}${stranded}` : `${error.message}; nothing was changed`);
  }
  let placed = 0;
  try {
    for (const file of staged) {
      renameSync(file.temporary, file.target);
      placed++;
    }
  } catch (error) {
    // A rename beside a file written moments ago failed: put back what is left, say what happened.
    const stranded = rollBack(staged.slice(placed), createdDirectories, setAside);
    const path = staged[placed]?.target ?? "";
    throw new IoError(
      `cannot put ${relativeTo(root, path)} in place (${describeErrorCode(error) ?? String(error)}); ${placed} of ${staged.length} file(s) were already replaced${stranded}`,
    );
  }
  for (const orphan of setAside) rmSync(orphan.temporary, { force: true });
}

function relativeTo(root: string, path: string): string {
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

/** Renames an orphaned file to a hidden temporary name beside it (undone by `rollBack`). */
function setOrphanAside(confinement: Confinement, path: string): Staged {
  const target = confinement.resolve(path);
  const temporary = join(dirname(target), temporaryName());
  try {
    renameSync(target, temporary);
  } catch (error) {
    throw new IoError(`cannot remove the orphaned ${path} (${describeErrorCode(error) ?? String(error)})`);
  }
  return { temporary, target };
}
