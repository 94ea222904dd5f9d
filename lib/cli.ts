/**
 * Shared command-line plumbing for tasks: flag parsing that fails as a UsageError, and the
 * mapping from a thrown error to one printable line and an exit code. Nothing here prints.
 */
import { describeSystemError, isKnownError, UsageError } from "./errors.ts";
import { suggestClosest } from "./suggest.ts";

export const EXIT = { ok: 0, findings: 1, usage: 2, interrupted: 130 } as const;

export type FlagSpec = { type: "string" | "boolean"; short?: string; multiple?: boolean };
type FlagValue<S extends FlagSpec> = S["type"] extends "boolean"
  ? boolean
  : S["multiple"] extends true
    ? string[]
    : string;
export type FlagValues<T extends Record<string, FlagSpec>> = { [K in keyof T]?: FlagValue<T[K]> };

/** The flags every registry task takes: `--json`, `--registry PATH`, `--root DIR`, `-h/--help`. */
export const TASK_FLAGS = {
  json: { type: "boolean" },
  registry: { type: "string" },
  root: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Record<string, FlagSpec>;

/**
 * Strict flag parsing: `--name`, `--name value`, `--name=value`, `-x`, and `--` before
 * positionals. Every mistake is one UsageError line, with a did-you-mean for a misspelt flag.
 * (Hand-written rather than node:util's parseArgs, whose import is a tenth of a task's start-up.)
 */
export function parseFlags<const T extends Record<string, FlagSpec>>(
  argv: readonly string[],
  options: T,
  allowPositionals = false,
): { values: FlagValues<T>; positionals: string[] } {
  const values: Record<string, boolean | string | string[]> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) if (spec.short) byShort.set(spec.short, name);
  const fail = (message: string): never => {
    throw new UsageError(`${message}; see --help`);
  };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (arg === "--") {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (!allowPositionals) fail(`unexpected argument ${JSON.stringify(arg)}`);
      positionals.push(arg);
      continue;
    }
    const equals = arg.indexOf("=");
    const isLong = arg.startsWith("--");
    const flag = isLong && equals > 0 ? arg.slice(0, equals) : arg;
    const name = isLong ? flag.slice(2) : byShort.get(flag.slice(1));
    const spec = name !== undefined && Object.hasOwn(options, name) ? options[name] : undefined;
    if (name === undefined || spec === undefined) {
      const suggestion = suggestClosest(
        flag.replace(/^-+/, ""),
        Object.keys(options).filter((option) => option.length > 1),
      );
      fail(`unknown option ${flag}${suggestion ? ` (did you mean --${suggestion}?)` : ""}`);
      continue;
    }
    if (spec.type === "boolean") {
      if (isLong && equals > 0) fail(`--${name} takes no value`);
      values[name] = true;
      continue;
    }
    let value: string;
    if (isLong && equals > 0) {
      value = arg.slice(equals + 1);
    } else {
      const next = argv[index + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) {
        fail(
          `--${name} needs a value${next === undefined ? "" : ` (write --${name}=${next} for a value that starts with -)`}`,
        );
      }
      value = next as string;
      index++;
    }
    if (spec.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else values[name] = value;
  }
  return { values: values as FlagValues<T>, positionals };
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
async function settle(task: string, run: Promise<number>): Promise<{ exitCode: number; text?: string }> {
  try {
    return { exitCode: await run };
  } catch (error) {
    return describeFailure(task, error);
  }
}

/**
 * A task's entry point: runs `main` on the command line, prints the one failure line `settle`
 * gives (if any) to stderr, and sets the exit code.
 */
export function runTask(task: string, main: (argv: string[]) => Promise<number>): void {
  settle(task, main(process.argv.slice(2))).then(({ exitCode, text }) => {
    // biome-ignore lint/suspicious/noConsole: the task's one failure line, as every task prints it
    if (text) console.error(text);
    process.exitCode = exitCode;
  });
}
