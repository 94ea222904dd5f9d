/**
 * Keeps single-pass hot functions out of JavaScriptCore's optimizing tier (FTL) on long runs.
 *
 * A task runs them once over its input: a 10,000-service registry is read in one pass, so the
 * reader's loop turns hot within milliseconds and the engine compiles it with its most expensive
 * compiler. Measured on the 2-core development machine, that compile took about 300 ms of CPU,
 * competing with the task for the cores, and the compiled code read no faster than the baseline
 * optimizing tier (DFG), which these functions still get.
 *
 * Modules register their functions at load; the hint is applied only once a task declares a long
 * run (`expectLongRun`), because loading bun:jsc costs a short run (validate of a small registry)
 * more than it could save: a small input never reaches that tier. Nothing happens where bun:jsc or
 * its `noFTL` is unavailable: the functions then behave exactly the same, only compiled differently.
 */
type Fn = (...args: never[]) => unknown;
type Jsc = { noFTL?: (fn: Fn) => unknown };

const registered: Fn[] = [];
let isLongRun = false;

export function skipOptimizingCompiler(...functions: Fn[]): void {
  for (const fn of functions) registered.push(fn);
  if (isLongRun) applyHint(functions);
}

/** Declares that this run's input is large: the hint applies to every function, now and later. */
export function expectLongRun(): void {
  if (isLongRun) return;
  isLongRun = true;
  applyHint(registered);
}

function applyHint(functions: readonly Fn[]): void {
  let jsc: Jsc | undefined;
  try {
    jsc = require("bun:jsc") as Jsc;
  } catch {
    return;
  }
  const noFTL = jsc.noFTL;
  if (typeof noFTL !== "function") return;
  for (const fn of functions) noFTL(fn);
}
