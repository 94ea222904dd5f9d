/**
 * Colour for people only: on a TTY, never under NO_COLOR or CI, never in files or JSON.
 */
import { styleText } from "node:util";

type Style = Parameters<typeof styleText>[0];

export type Colors = {
  isEnabled: boolean;
  paint: (style: Style, text: string) => string;
};

/**
 * `stream` may be a function, so a task asks for `process.stdout` only when the environment leaves
 * the question open: creating Node's stdout stream costs a Bun process about 13 ms of start-up.
 */
export function shouldUseColor(
  stream: { isTTY?: boolean } | (() => { isTTY?: boolean }),
  env: Record<string, string | undefined>,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.CI !== undefined && env.CI !== "" && env.CI !== "false") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return (typeof stream === "function" ? stream() : stream).isTTY === true;
}

export function createColors(isEnabled: boolean): Colors {
  return {
    isEnabled,
    paint: (style, text) => (isEnabled ? styleText(style, text, { validateStream: false }) : text),
  };
}
