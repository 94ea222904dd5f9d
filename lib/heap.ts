/**
 * Headroom for the garbage collector on large registries.
 *
 * JavaScriptCore sizes its next collection by the heap it found alive at the last one. A run that
 * reads a large registry and builds its outputs grows the heap from almost nothing, so it collects
 * again and again on the way, each full collection marking everything built so far. An untouched
 * ArrayBuffer counts as heap to that sizing but takes no memory until it is written (its pages are
 * mapped on first write), so reserving one in proportion to the input lets the heap grow with a
 * few collections instead of many.
 *
 * Measured on the 2-core development machine, sync of 10,000 services (a 3.3 MB registry): about
 * 12% faster, with peak resident memory 205 MB instead of 140 MB (garbage collected later). Small
 * registries are not affected: below `MIN_INPUT_BYTES` nothing is reserved. Where the memory cannot
 * be reserved (a strict overcommit policy), nothing changes either.
 */
export const MIN_INPUT_BYTES = 1_000_000;
const HEADROOM_PER_INPUT_BYTE = 32;
const MAX_HEADROOM_BYTES = 512 * 1024 * 1024;

let headroom: ArrayBuffer | undefined;

/** Reserves (or releases) headroom for an input of `inputBytes`; returns the bytes reserved. */
export function reserveHeapHeadroom(inputBytes: number): number {
  headroom = undefined;
  if (inputBytes < MIN_INPUT_BYTES) return 0;
  try {
    headroom = new ArrayBuffer(Math.min(MAX_HEADROOM_BYTES, inputBytes * HEADROOM_PER_INPUT_BYTE));
  } catch {
    return 0;
  }
  return headroom.byteLength;
}
