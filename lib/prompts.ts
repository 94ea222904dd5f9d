/**
 * The one way a task asks a question. Every clack prompt goes through `cancelable()`:
 * - without a terminal it never starts the prompt (Bun would wait forever); the missing answer
 *   becomes a usage error that names the flag to pass;
 * - Ctrl-C (clack's cancel symbol) becomes a `PromptCancelledError`, which the task turns into
 *   exit code 130 before anything is written.
 */
import { isCancel } from "@clack/prompts";
import { UsageError } from "./errors.ts";

/** The person pressed Ctrl-C (or Escape) at a prompt. Tasks exit 130 and write nothing. */
export class PromptCancelledError extends Error {
  override name = "PromptCancelledError";
}

export type PromptTerminal = { isInteractive: boolean };

/** True when a person can answer prompts: stdin and stdout are terminals. */
export function isInteractiveTerminal(stdin: { isTTY?: boolean }, stdout: { isTTY?: boolean }): boolean {
  return stdin.isTTY === true && stdout.isTTY === true;
}

export async function cancelable<T>(
  terminal: PromptTerminal,
  flag: string,
  prompt: () => Promise<T>,
): Promise<Exclude<T, symbol>> {
  if (!terminal.isInteractive) throw new UsageError(`missing ${flag}: there is no terminal to ask on`);
  const answer = await prompt();
  if (isCancel(answer)) throw new PromptCancelledError("nothing was written");
  return answer as Exclude<T, symbol>;
}
