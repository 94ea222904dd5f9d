/**
 * The unified diff that sync --check prints: exact format, and (property) applying it to the old
 * text always gives the new text, including past the edit-distance cap.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { diffLines, MAX_EDIT_DISTANCE, unifiedDiff } from "../../lib/text-diff.ts";

/** Applies a unified diff produced by unifiedDiff (hunks in order, exact counts). */
function applyUnifiedDiff(before: string, diff: string): string {
  const source = before === "" ? [] : before.replace(/\n$/, "").split("\n");
  const lines = diff.replace(/\n$/, "").split("\n").slice(2);
  const out: string[] = [];
  let cursor = 0;
  let index = 0;
  while (index < lines.length) {
    const header = /^@@ -(\d+),(\d+) \+(\d+),(\d+) @@$/.exec(lines[index] as string);
    if (!header) throw new Error(`bad hunk header: ${lines[index]}`);
    const [aStart, aCount] = [Number(header[1]), Number(header[2])];
    const start = aCount === 0 ? aStart : aStart - 1;
    while (cursor < start) out.push(source[cursor++] as string);
    index++;
    while (index < lines.length && !(lines[index] as string).startsWith("@@")) {
      const line = lines[index] as string;
      if (line.startsWith("\\")) {
        index++;
        continue;
      }
      const body = line.slice(1);
      if (line[0] === " ") {
        expect(source[cursor]).toBe(body);
        out.push(body);
        cursor++;
      } else if (line[0] === "-") {
        expect(source[cursor]).toBe(body);
        cursor++;
      } else {
        out.push(body);
      }
      index++;
    }
  }
  while (cursor < source.length) out.push(source[cursor++] as string);
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}

describe("unifiedDiff", () => {
  test("three lines of context and git-style headers", () => {
    const before = "a\nb\nc\nd\ne\nf\ng\nh\n";
    const after = "a\nb\nc\nd\nE\nf\ng\nh\n";
    expect(unifiedDiff(before, after, "x.txt")).toBe(
      "--- a/x.txt\n+++ b/x.txt\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n",
    );
    expect(unifiedDiff(before, before, "x.txt")).toBe("");
  });

  test("a missing file and a deleted file", () => {
    expect(unifiedDiff("", "one\ntwo\n", "new.txt")).toBe(
      "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+one\n+two\n",
    );
    expect(unifiedDiff("one\n", "", "old.txt")).toBe("--- a/old.txt\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-one\n");
  });

  test("applying the diff to the old text gives the new text", () => {
    const line = fc.constantFrom("a", "b", "c", "d", "");
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), fc.array(line, { maxLength: 30 }), (a, b) => {
        const before = a.length === 0 ? "" : `${a.join("\n")}\n`;
        const after = b.length === 0 ? "" : `${b.join("\n")}\n`;
        const diff = unifiedDiff(before, after, "p");
        expect(diff === "" ? before : applyUnifiedDiff(before, diff)).toBe(after);
      }),
      { numRuns: 300 },
    );
  });

  test("past the edit-distance cap the changed block is replaced whole, still correctly", () => {
    const size = MAX_EDIT_DISTANCE + 200;
    const before = Array.from({ length: size }, (_, index) => `old ${index}`);
    const after = Array.from({ length: size }, (_, index) => `new ${index}`);
    const edits = diffLines(["same", ...before, "end"], ["same", ...after, "end"]);
    expect(edits.filter((edit) => edit.kind === "-").length).toBe(size);
    expect(edits.filter((edit) => edit.kind === "+").length).toBe(size);
    const beforeText = `same\n${before.join("\n")}\nend\n`;
    const afterText = `same\n${after.join("\n")}\nend\n`;
    expect(applyUnifiedDiff(beforeText, unifiedDiff(beforeText, afterText, "big"))).toBe(afterText);
  });
});
