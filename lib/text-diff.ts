/**
 * A line diff (Myers' O((N+M)D) algorithm) printed as a unified diff with three lines of context.
 */

type Edit = { kind: " " | "-" | "+"; line: string };

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Beyond this many differences a hunk shows the whole changed block removed and re-added. */
export const MAX_EDIT_DISTANCE = 1000;

/**
 * Shortest edit script between two line arrays. The common head and tail are matched first, so
 * a missing file, a deleted file and a local change cost time linear in their size; the Myers
 * search over what is left keeps only the diagonals it reached and stops at MAX_EDIT_DISTANCE.
 */
export function diffLines(a: readonly string[], b: readonly string[]): Edit[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tailA = a.length;
  let tailB = b.length;
  while (tailA > head && tailB > head && a[tailA - 1] === b[tailB - 1]) {
    tailA--;
    tailB--;
  }
  const same = (line: string): Edit => ({ kind: " ", line });
  return [
    ...a.slice(0, head).map(same),
    ...diffMiddle(a.slice(head, tailA), b.slice(head, tailB)),
    ...a.slice(tailA).map(same),
  ];
}

function replaceAll(a: readonly string[], b: readonly string[]): Edit[] {
  return [...a.map((line): Edit => ({ kind: "-", line })), ...b.map((line): Edit => ({ kind: "+", line }))];
}

function diffMiddle(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return replaceAll(a, b);
  const limit = Math.min(n + m, MAX_EDIT_DISTANCE);
  const offset = limit + 1;
  const v = new Int32Array(2 * limit + 3);
  // trace[d] holds v[-d-1 .. d+1] as it was before step d.
  const trace: Int32Array[] = [];
  const read = (d: number, k: number) => (trace[d] as Int32Array)[k + d + 1] as number;
  let found = false;
  let last = 0;
  for (let d = 0; d <= limit && !found; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    last = d;
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number))
          ? (v[offset + k + 1] as number)
          : (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  if (!found) return replaceAll(a, b);
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = last; d >= 0 && (x > 0 || y > 0); d--) {
    const k = x - y;
    const isDown = k === -d || (k !== d && read(d, k - 1) < read(d, k + 1));
    const previousK = isDown ? k + 1 : k - 1;
    const previousX = d === 0 ? 0 : read(d, previousK);
    const previousY = previousX - previousK;
    while (x > previousX && y > previousY) {
      edits.push({ kind: " ", line: a[x - 1] as string });
      x--;
      y--;
    }
    if (d === 0) break;
    if (isDown) {
      edits.push({ kind: "+", line: b[y - 1] as string });
      y--;
    } else {
      edits.push({ kind: "-", line: a[x - 1] as string });
      x--;
    }
  }
  while (x > 0 && y > 0) {
    edits.push({ kind: " ", line: a[x - 1] as string });
    x--;
    y--;
  }
  return edits.reverse();
}

const CONTEXT = 3;

export function unifiedDiff(before: string, after: string, path: string): string {
  if (before === after) return "";
  const a = splitLines(before);
  const b = splitLines(after);
  const edits = diffLines(a, b);
  const out: string[] = [
    `--- ${before === "" ? "/dev/null" : `a/${path}`}`,
    `+++ ${after === "" ? "/dev/null" : `b/${path}`}`,
  ];
  let index = 0;
  while (index < edits.length) {
    while (index < edits.length && edits[index]?.kind === " ") index++;
    if (index >= edits.length) break;
    const start = Math.max(0, index - CONTEXT);
    let end = index;
    let quiet = 0;
    while (end < edits.length && quiet <= CONTEXT * 2) {
      quiet = edits[end]?.kind === " " ? quiet + 1 : 0;
      end++;
    }
    end = Math.min(edits.length, end - Math.max(0, quiet - CONTEXT));
    let aLine = 1;
    let bLine = 1;
    for (let i = 0; i < start; i++) {
      if (edits[i]?.kind !== "+") aLine++;
      if (edits[i]?.kind !== "-") bLine++;
    }
    const hunk = edits.slice(start, end);
    const aCount = hunk.filter((edit) => edit.kind !== "+").length;
    const bCount = hunk.filter((edit) => edit.kind !== "-").length;
    out.push(
      `@@ -${aCount === 0 ? aLine - 1 : aLine},${aCount} +${bCount === 0 ? bLine - 1 : bLine},${bCount} @@`,
    );
    for (const edit of hunk) out.push(`${edit.kind}${edit.line}`);
    index = end;
  }
  if (!before.endsWith("\n") && before !== "") out.push("\\ No newline at end of file (before)");
  return `${out.join("\n")}\n`;
}
