/**
 * `resolve`, `relative` and `isAbsolute` for POSIX paths, for the tasks on the start-up path
 * (validate): importing node:path costs a Bun process about 2 ms, a twentieth of a clean validate.
 * On Windows the same calls go to node:path. Tests hold the POSIX helpers to node:path's answers.
 */
import type * as NodePath from "node:path";

const nodePath = (): typeof NodePath => require("node:path") as typeof NodePath;
const isPosix = process.platform !== "win32";

function normalizeSegments(path: string): string[] {
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  return out;
}

export function isAbsolutePath(path: string): boolean {
  return isPosix ? path.startsWith("/") : nodePath().isAbsolute(path);
}

/** Like path.resolve: right-most absolute part wins, relative to the working directory otherwise. */
export function resolvePath(...parts: string[]): string {
  if (!isPosix) return nodePath().resolve(...parts);
  let joined = "";
  for (let index = parts.length - 1; index >= 0 && !joined.startsWith("/"); index--) {
    const part = parts[index] as string;
    if (part !== "") joined = joined === "" ? part : `${part}/${joined}`;
  }
  if (!joined.startsWith("/")) joined = `${process.cwd()}/${joined}`;
  return `/${normalizeSegments(joined).join("/")}`;
}

/** Like path.relative: the path from `from` to `to`, both resolved first ("" when equal). */
export function relativePath(from: string, to: string): string {
  if (!isPosix) return nodePath().relative(from, to);
  const fromParts = normalizeSegments(resolvePath(from));
  const toParts = normalizeSegments(resolvePath(to));
  let common = 0;
  while (common < fromParts.length && common < toParts.length && fromParts[common] === toParts[common]) {
    common++;
  }
  return [...Array(fromParts.length - common).fill(".."), ...toParts.slice(common)].join("/");
}

export const DEFAULT_REGISTRY_PATH = "config/ports/registry.yaml";

/** Path as shown in messages: relative to the root (with forward slashes) when inside it. */
export function displayPath(path: string, root: string): string {
  const rel = relativePath(root, path);
  return rel && !isAbsolutePath(rel) ? rel.split("\\").join("/") : path;
}
