/**
 * Heap headroom for large registries (lib/heap.ts): nothing for small inputs, capped for huge
 * ones, and never resident memory: the reserved pages stay untouched.
 */
import { afterAll, expect, test } from "bun:test";
import { MIN_INPUT_BYTES, reserveHeapHeadroom } from "../../lib/heap.ts";

afterAll(() => reserveHeapHeadroom(0));

test("a small registry reserves nothing", () => {
  expect(reserveHeapHeadroom(0)).toBe(0);
  expect(reserveHeapHeadroom(MIN_INPUT_BYTES - 1)).toBe(0);
});

test("a large registry reserves in proportion to its size, up to 512 MB", () => {
  expect(reserveHeapHeadroom(3_000_000)).toBe(96_000_000);
  expect(reserveHeapHeadroom(100_000_000)).toBe(512 * 1024 * 1024);
});

test("the headroom costs no resident memory", () => {
  reserveHeapHeadroom(0);
  Bun.gc(true);
  const before = process.memoryUsage().rss;
  expect(reserveHeapHeadroom(16_000_000)).toBe(512_000_000);
  const growth = process.memoryUsage().rss - before;
  expect(growth).toBeLessThan(32 * 1024 * 1024);
});
