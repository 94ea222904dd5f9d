/**
 * Shared command-line plumbing for tasks: flag parsing that fails as a UsageError, and the
 * mapping from a thrown error to one printable line and an exit code. Nothing here prints.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { describeSystemError, isKnownError, UsageError } from "./errors.ts";

export const EXIT = { ok: 0, findings: 1, usage: 2, interrupted: 130 } as const;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** `node:util` parseArgs, strict, with its errors turned into one-line usage errors. */
export function parseFlags<T extends Options>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new UsageError(`${message}; see --help`);
  }
}

export function parseChoice<T extends string>(
  flag: string,
  value: string | undefined,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${flag} must be one of ${choices.join(", ")}, got "${value}"`);
}

export type Failure = { exitCode: number; text: string };

/**
 * A known error becomes `task: message` and exit 2. A system error (ENOENT and friends) becomes
 * one line too. Anything else is a bug in the toolkit: it keeps its stack.
 */
export function describeFailure(task: string, error: unknown): Failure {
  if (isKnownError(error)) return { exitCode: EXIT.usage, text: `${task}: ${error.message}` };
  const system = describeSystemError(error);
  if (system) return { exitCode: EXIT.usage, text: `${task}: ${system}` };
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { exitCode: EXIT.usage, text: `${task}: internal error (please report it)\n${stack}` };
}

/**
 * The outcome of a task's `main`: its exit code, or the one-line failure (with a stack only for a
 * bug in the toolkit) and exit code 2. The task prints `text` to stderr.
 */
export async function settle(
  task: string,
  run: Promise<number>,
): Promise<{ exitCode: number; text?: string }> {
  try {
    return { exitCode: await run };
  } catch (error) {
    return describeFailure(task, error);
  }
}
