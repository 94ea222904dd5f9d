/**
 * Keeps single-pass hot functions out of JavaScriptCore's optimizing tier (FTL).
 *
 * A task runs them once over its input: a 10,000-service registry is read in one pass, so the
 * reader's loop turns hot within milliseconds and the engine compiles it with its most expensive
 * compiler. Measured on the 2-core development machine, that compile took about 300 ms of CPU,
 * competing with the task for the cores, and the compiled code read no faster than the baseline
 * optimizing tier (DFG), which these functions still get. Nothing happens where bun:jsc or its
 * `noFTL` is unavailable: the functions then behave exactly the same, only compiled differently.
 */
type Jsc = { noFTL?: (fn: (...args: never[]) => unknown) => unknown };

let jsc: Jsc | null | undefined;

export function skipOptimizingCompiler(...functions: ((...args: never[]) => unknown)[]): void {
  if (jsc === undefined) {
    try {
      jsc = require("bun:jsc") as Jsc;
    } catch {
      jsc = null;
    }
  }
  const noFTL = jsc?.noFTL;
  if (typeof noFTL !== "function") return;
  for (const fn of functions) noFTL(fn);
}
