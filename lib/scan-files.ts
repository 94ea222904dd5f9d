/**
 * What the scanner reads, and how: the candidate list (tracked files
 * in a git repository, a glob walk elsewhere, explicit paths, or the staged index), and a safe
 * read of each candidate. With `lib/scan-config.ts` and `lib/scan-baseline.ts`, the scanner's only disk I/O.
 *
 * Safety: a file is opened with O_NOFOLLOW (a symlink is never followed), its directory's real path
 * must stay inside the root, FIFOs and devices are skipped without blocking (O_NONBLOCK, then fstat),
 * and files over the size cap or with a NUL byte in their first 8 KB are skipped and counted.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { IoError, UsageError } from "./errors.ts";
import { classifyPath } from "./scan.ts";

export const DEFAULT_BASELINE_PATH = "config/ports/scan-baseline.json";
export const BINARY_PROBE_BYTES = 8192;

/** Walked past outside a git repository (inside one, `.gitignore` decides). */
export const DEFAULT_IGNORES = [
  "**/node_modules/**",
  "**/.git/**",
  "**/dist/**",
  "**/build/**",
  "**/out/**",
  "**/coverage/**",
  "**/.next/**",
  "**/.nuxt/**",
  "**/.turbo/**",
  "**/.cache/**",
  "**/vendor/**",
  "**/*.min.js",
  "**/package-lock.json",
  "**/pnpm-lock.yaml",
];

export type PathFilter = (path: string) => boolean;

/** True for the paths the settings' `ignore` globs exclude. */
export function createIgnoreFilter(globs: readonly string[]): PathFilter {
  const matchers = globs.map((pattern) => new Bun.Glob(pattern));
  return (path) => matchers.some((matcher) => matcher.match(path));
}

/**
 * What a scan does with a listed path: reads it, or passes it as "ignored" (an `ignore` glob of the
 * settings; counted) or "excluded" (a kind the scanner does not read, or one of the toolkit's own
 * files: never counted).
 */
export type PathVerdict = "read" | "ignored" | "excluded";

export function createPathFilter(settings: {
  ignore: readonly string[];
  exclude: readonly string[];
}): (path: string) => PathVerdict {
  const excluded = new Set(settings.exclude);
  const isIgnored = createIgnoreFilter(settings.ignore);
  return (path) => {
    if (!classifyPath(path) || excluded.has(path)) return "excluded";
    return isIgnored(path) ? "ignored" : "read";
  };
}

// ---------------------------------------------------------------------------------------------
// Candidates

export type Discovery = "tracked" | "glob" | "staged";

function runGit(
  root: string,
  args: string[],
  stdin?: Uint8Array,
): { ok: boolean; stdout: Buffer; stderr: string } {
  try {
    const result = Bun.spawnSync(["git", "-C", root, ...args], {
      stdin: stdin ?? "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" },
    });
    return { ok: result.exitCode === 0, stdout: result.stdout as Buffer, stderr: result.stderr.toString() };
  } catch {
    return { ok: false, stdout: Buffer.alloc(0), stderr: "git is not installed" };
  }
}

function splitNul(buffer: Buffer): string[] {
  return buffer
    .toString("utf8")
    .split("\0")
    .filter((item) => item !== "");
}

/** Tracked files under the root (so `.gitignore` holds), or undefined outside a git work tree. */
export function listTrackedFiles(root: string): string[] | undefined {
  const result = runGit(root, ["ls-files", "-z", "--cached"]);
  if (!result.ok) return undefined;
  return splitNul(result.stdout);
}

/** Outside git: tinyglobby, which never lists symlinks (nor FIFOs), so neither is ever opened. */
export async function listFilesByGlob(root: string): Promise<string[]> {
  const { glob } = await import("tinyglobby"); // only outside git, so a hook never pays for it
  return glob(["**/*"], {
    cwd: root,
    dot: true,
    followSymbolicLinks: false,
    onlyFiles: true,
    ignore: DEFAULT_IGNORES,
    expandDirectories: false,
  });
}

/**
 * Files git does not track and does not ignore under the root-relative `paths` (git walks only
 * those): the new files a directory argument should reach.
 */
export function listUntrackedFiles(root: string, paths: readonly string[]): string[] {
  if (paths.length === 0) return [];
  const pathspecs = paths.map((path) => `:(literal)${path === "" ? "." : path}`);
  const result = runGit(root, ["ls-files", "-z", "--others", "--exclude-standard", "--", ...pathspecs]);
  return result.ok ? splitNul(result.stdout) : [];
}

/** The root-relative form of path arguments given relative to `cwd`, without those outside the root. */
export function rootRelativePaths(root: string, cwd: string, args: readonly string[]): string[] {
  const inside: string[] = [];
  for (const arg of args) {
    const rel = relative(root, isAbsolute(arg) ? arg : resolve(cwd, arg))
      .split(sep)
      .join("/");
    if (!(rel.startsWith("../") || rel === ".." || isAbsolute(rel))) inside.push(rel);
  }
  return inside;
}

export async function listCandidates(root: string): Promise<{ discovery: Discovery; paths: string[] }> {
  const tracked = listTrackedFiles(root);
  if (tracked) return { discovery: "tracked", paths: tracked };
  return { discovery: "glob", paths: await listFilesByGlob(root) };
}

/**
 * Explicit path arguments (relative to `cwd`) as root-relative paths. A directory selects the
 * listed files under it. Paths that leave the root are returned separately.
 */
export function selectPaths(
  root: string,
  cwd: string,
  args: readonly string[],
  listed: readonly string[],
): { paths: string[]; outside: string[] } {
  const paths = new Set<string>();
  const outside: string[] = [];
  for (const arg of args) {
    const absolute = isAbsolute(arg) ? arg : resolve(cwd, arg);
    const rel = relative(root, absolute).split(sep).join("/");
    if (rel.startsWith("../") || rel === ".." || isAbsolute(rel)) {
      outside.push(arg);
      continue;
    }
    let isDirectory = false;
    try {
      isDirectory = lstatSync(absolute).isDirectory();
    } catch {
      throw new IoError(`${arg}: no such file or directory`);
    }
    if (rel === "") {
      for (const path of listed) paths.add(path);
    } else if (isDirectory) {
      const prefix = `${rel}/`;
      for (const path of listed) if (path.startsWith(prefix)) paths.add(path);
    } else {
      paths.add(rel);
    }
  }
  return { paths: [...paths], outside };
}

// ---------------------------------------------------------------------------------------------
// Reading

export type SkipReason =
  | "generated"
  | "binary"
  | "too-large"
  | "symlink"
  | "outside-root"
  | "special"
  | "unreadable";

export type ReadResult = { text: string } | { skip: SkipReason };

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export function hasNulByte(bytes: Uint8Array): boolean {
  const probe = bytes.length > BINARY_PROBE_BYTES ? bytes.subarray(0, BINARY_PROBE_BYTES) : bytes;
  return probe.indexOf(0) >= 0;
}

/**
 * A file's bytes, in the reader's own buffer (valid until its next read), or why it was skipped.
 * The NUL probe is done: bytes are text.
 */
export type ByteReadResult = { bytes: Buffer; length: number } | { skip: SkipReason };

/** Reads files under one root as bytes, remembering which directories stay inside it. */
export function createByteReader(root: string, maxFileBytes: number): (path: string) => ByteReadResult {
  const realRoot = realpathSync(root);
  const prefix = root.endsWith(sep) ? root : root + sep;
  const directoryInside = new Map<string, boolean>();
  const isInside = (directory: string): boolean => {
    const cached = directoryInside.get(directory);
    if (cached !== undefined) return cached;
    let inside = false;
    try {
      const real = realpathSync(prefix + directory);
      inside = real === realRoot || real.startsWith(realRoot + sep);
    } catch {
      inside = false;
    }
    directoryInside.set(directory, inside);
    return inside;
  };
  // One buffer for every file: it grows up to the size cap plus one byte, never beyond.
  let bytes = Buffer.allocUnsafe(Math.min(256 * 1024, maxFileBytes + 1));
  const classifyOdd = (fd: number, isEmpty: boolean): ByteReadResult => {
    if (!fstatSync(fd).isFile()) return { skip: "special" };
    return isEmpty ? { bytes, length: 0 } : { skip: "too-large" };
  };
  return (path) => {
    if (!isInside(path.slice(0, path.lastIndexOf("/") + 1))) return { skip: "outside-root" };
    let fd: number;
    try {
      // O_NOFOLLOW refuses a symlink, O_NONBLOCK keeps a FIFO from blocking.
      fd = openSync(prefix + path, OPEN_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ELOOP" || code === "EMLINK") return { skip: "symlink" };
      if (code === "ENXIO") return { skip: "special" };
      return { skip: "unreadable" };
    }
    try {
      let length = 0;
      for (;;) {
        if (length === bytes.length) {
          if (length > maxFileBytes) break;
          const grown = Buffer.allocUnsafe(Math.min(bytes.length * 2, maxFileBytes + 1));
          bytes.copy(grown, 0, 0, length);
          bytes = grown;
        }
        const count = readSync(fd, bytes, length, bytes.length - length, null);
        if (count === 0) break;
        length += count;
      }
      if (length === 0 || length > maxFileBytes) return classifyOdd(fd, length === 0);
      if (hasNulByte(bytes.subarray(0, length))) return { skip: "binary" };
      return { bytes, length };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EISDIR" || code === "EAGAIN") return { skip: "special" };
      return { skip: "unreadable" };
    } finally {
      closeSync(fd);
    }
  };
}

/** Reads files under one root as text (see `createByteReader`). */
export function createReader(root: string, maxFileBytes: number): (path: string) => ReadResult {
  const readBytes = createByteReader(root, maxFileBytes);
  return (path) => {
    const read = readBytes(path);
    return "skip" in read ? read : { text: read.bytes.toString("utf8", 0, read.length) };
  };
}

// ---------------------------------------------------------------------------------------------
// Staged content

export type StagedFile = { path: string } & ReadResult;

/**
 * The staged version of every added, copied, modified or renamed file: one `git diff --cached`
 * for names and blob ids, and one `git cat-file --batch` for all contents. Symlinks and
 * submodules in the index are skipped.
 */
export function readStagedFiles(
  root: string,
  maxFileBytes: number,
  accept: (path: string) => boolean,
): StagedFile[] {
  const diff = runGit(root, [
    "diff",
    "--cached",
    "--raw",
    "-z",
    "--no-renames",
    "--no-abbrev",
    "--relative",
    "--diff-filter=ACMRT",
  ]);
  if (!diff.ok) {
    if (!runGit(root, ["rev-parse", "--git-dir"]).ok) {
      throw new UsageError(`--staged needs a git repository, and ${root} is not inside one`);
    }
    throw new IoError(`cannot list staged files: ${diff.stderr.trim().split("\n")[0] ?? "git failed"}`);
  }
  const fields = diff.stdout.toString("utf8").split("\0");
  const entries: { path: string; mode: string; blob: string }[] = [];
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const meta = fields[index] as string;
    const path = fields[index + 1] as string;
    const parts = meta.split(" ");
    entries.push({ path, mode: parts[1] ?? "", blob: parts[3] ?? "" });
  }
  const results: StagedFile[] = [];
  const wanted: { path: string; blob: string }[] = [];
  for (const entry of entries) {
    if (!accept(entry.path)) continue;
    if (entry.mode === "120000") results.push({ path: entry.path, skip: "symlink" });
    else if (entry.mode === "160000") results.push({ path: entry.path, skip: "special" });
    else wanted.push(entry);
  }
  if (wanted.length === 0) return results;
  const batch = runGit(
    root,
    ["cat-file", "--batch"],
    Buffer.from(wanted.map((entry) => `${entry.blob}\n`).join("")),
  );
  if (!batch.ok)
    throw new IoError(`cannot read staged content: ${batch.stderr.trim().split("\n")[0] ?? "git failed"}`);
  const output = batch.stdout;
  let cursor = 0;
  for (const entry of wanted) {
    const headerEnd = output.indexOf(10, cursor);
    const header = output.subarray(cursor, headerEnd).toString("utf8").split(" ");
    const size = Number(header[2]);
    const start = headerEnd + 1;
    cursor = start + (Number.isFinite(size) ? size : 0) + 1;
    if (header[1] !== "blob" || !Number.isFinite(size)) {
      results.push({ path: entry.path, skip: "unreadable" });
    } else if (size > maxFileBytes) {
      results.push({ path: entry.path, skip: "too-large" });
    } else {
      const bytes = output.subarray(start, start + size);
      results.push(
        hasNulByte(bytes)
          ? { path: entry.path, skip: "binary" }
          : { path: entry.path, text: bytes.toString("utf8") },
      );
    }
  }
  return results;
}
