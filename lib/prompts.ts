/**
 * The one way a task asks a question. Every clack prompt goes through `cancelable()`:
 * - without a terminal it never starts the prompt (Bun would wait forever); the missing answer
 *   becomes a usage error that names the flag to pass;
 * - Ctrl-C (clack's cancel symbol) and the end of input (Ctrl-D) become a `PromptCancelledError`,
 *   which the task turns into exit code 130 before anything is written.
 */
import { isCancel, updateSettings } from "@clack/prompts";
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
  const ending = endOfInput();
  try {
    const answer = await Promise.race([prompt(), ending.promise]);
    if (isCancel(answer)) throw new PromptCancelledError("nothing was written");
    return answer as Exclude<T, symbol>;
  } finally {
    ending.dispose();
  }
}

const CTRL_D = "\u0004";
// Ctrl-D cancels like Ctrl-C. Left alone, the terminal's line editor closes on it and the prompt
// never settles: the task would exit 0 with its frame open and the cursor hidden.
updateSettings({ aliases: { [CTRL_D]: "cancel" } });

/** Makes the cursor visible again: a prompt hides it while it waits. */
const SHOW_CURSOR = "\x1b[?25h";

/**
 * The terminal's input ending (Ctrl-D, or the other end of the terminal gone) while a prompt
 * waits. The prompt itself never settles then, and the task would exit 0 as if it had finished.
 */
function endOfInput(): { promise: Promise<never>; dispose: () => void } {
  const stdin = process.stdin;
  let onEnd = () => {};
  const promise = new Promise<never>((_, reject) => {
    onEnd = () => {
      process.stdout.write(SHOW_CURSOR);
      reject(new PromptCancelledError("end of input; nothing was written"));
    };
    if (stdin.readableEnded) onEnd();
    stdin.once("end", onEnd);
    stdin.once("close", onEnd);
  });
  promise.catch(() => {}); // settled through the race; never an unhandled rejection
  return {
    promise,
    dispose: () => {
      stdin.off("end", onEnd);
      stdin.off("close", onEnd);
    },
  };
}
