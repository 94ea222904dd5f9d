/**
 * Colour for people only: on a TTY, never under NO_COLOR or CI, never in files or JSON.
 */
/** SGR codes (open, close) for the few styles the tasks use. */
const STYLES = {
  bold: [1, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
} as const;

export type Style = keyof typeof STYLES;

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

/**
 * Colour for stdout: the environment decides first; then whether fd 1 is a terminal. Bun's native
 * tty binding answers in microseconds. Loading Node's tty module instead costs a start about 18 ms
 * (a terminal, or output sent to /dev/null, paid that on every run), so it is only the fallback.
 */
export async function shouldColorStdout(env: Record<string, string | undefined>): Promise<boolean> {
  if (!shouldUseColor({ isTTY: true }, env)) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  const isTerminal = isTerminalByBinding(1);
  if (isTerminal !== undefined) return isTerminal;
  const info = await Bun.file(1)
    .stat()
    .catch(() => undefined);
  if (!info?.isCharacterDevice()) return false;
  return (require("node:tty") as typeof import("node:tty")).isatty(1);
}

type TtyBinding = { isTTY?: (fd: number) => unknown };

/** isatty(fd) from the runtime's tty binding, or undefined where there is no such binding. */
export function isTerminalByBinding(fd: number): boolean | undefined {
  try {
    const binding = (process as unknown as { binding: (name: string) => TtyBinding }).binding("tty_wrap");
    return typeof binding?.isTTY === "function" ? binding.isTTY(fd) === true : undefined;
  } catch {
    return undefined;
  }
}

export function createColors(isEnabled: boolean): Colors {
  return {
    isEnabled,
    paint: (style, text) =>
      isEnabled ? `\u001b[${STYLES[style][0]}m${text}\u001b[${STYLES[style][1]}m` : text,
  };
}
