/**
 * lib/paths.ts must answer exactly as node:path does.
 */
import { describe, expect, test } from "bun:test";
import { isAbsolute, relative, resolve } from "node:path";
import fc from "fast-check";
import { isAbsolutePath, relativePath, resolvePath } from "../../lib/paths.ts";

const segment = fc.constantFrom("", ".", "..", "a", "b", "dir", "x.y", "a b", "..a", ".hidden");
const path = fc
  .tuple(fc.boolean(), fc.array(segment, { maxLength: 6 }), fc.boolean())
  .map(([isAbsolute, segments, hasTrailingSlash]) => {
    const body = segments.join("/");
    return `${isAbsolute ? "/" : ""}${body}${hasTrailingSlash && body ? "/" : ""}`;
  });

describe("POSIX path helpers", () => {
  test("resolve, relative and isAbsolute agree with node:path", () => {
    fc.assert(
      fc.property(fc.array(path, { minLength: 1, maxLength: 3 }), path, (parts, other) => {
        expect(resolvePath(...parts)).toBe(resolve(...parts));
        expect(relativePath(parts[0] as string, other)).toBe(relative(parts[0] as string, other));
        expect(isAbsolutePath(other)).toBe(isAbsolute(other));
      }),
      { numRuns: 2000 },
    );
  });

  test.each([
    [["/"], "/"],
    [["/a/b", "../c"], "/a/c"],
    [["/a", "/b", "c"], "/b/c"],
    [["/a/", "./b/"], "/a/b"],
  ])("resolve %j is %s", (parts, expected) => {
    expect(resolvePath(...parts)).toBe(expected);
  });

  test("relative of one path is empty; of the root's child is its name", () => {
    expect(relativePath("/a/b", "/a/b/")).toBe("");
    expect(relativePath("/", "/a")).toBe("a");
    expect(relativePath("/a/b", "/a/c/d")).toBe("../c/d");
  });
});
