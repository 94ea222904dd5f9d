/**
 * Plumbing for the ports:new tests: spawning the task with a deadline (a prompt that waited for
 * input would otherwise hang the suite), and driving it through a real terminal with tmux.
 */
import { join } from "node:path";
import { REPO } from "../core/support.ts";

export const NEW_TASK = join(REPO, "tasks", "new.ts");

export type Spawned = { stdout: string; stderr: string; exitCode: number | null; isTimedOut: boolean };

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && key !== "FORCE_COLOR") env[key] = value;
  }
  return { ...env, NO_COLOR: "1", TZ: "Etc/UTC" };
}

/** Runs `bun tasks/new.ts ARGS` without a terminal (stdin is a pipe that closes at once). */
export async function runNew(
  args: string[],
  cwd: string,
  timeoutMs = 20_000,
  wrapper: string[] = [],
): Promise<Spawned> {
  const child = Bun.spawn([...wrapper, process.execPath, NEW_TASK, ...args], {
    cwd,
    env: cleanEnv(),
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  child.stdin.end();
  let isTimedOut = false;
  const timer = setTimeout(() => {
    isTimedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  return { stdout, stderr, exitCode, isTimedOut };
}

/** Today's date as ports:new writes it to lastUpdated (UTC). */
export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

function tmux(socket: string, args: string[]): string {
  const result = Bun.spawnSync(["tmux", "-L", socket, ...args], { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

export type Terminal = {
  /** Types literal text. */
  type: (text: string) => void;
  /** Presses keys by tmux name: Enter, Down, Space, BSpace, C-c. */
  press: (...keys: string[]) => void;
  screen: () => string;
  /** Whether the terminal shows its cursor (a prompt hides it while it waits). */
  isCursorVisible: () => boolean;
  /** Polls the screen until `text` appears; fails with the screen after the deadline. */
  waitFor: (text: string | RegExp, timeoutMs?: number) => Promise<string>;
  /** Waits for the task to end and returns its exit code. */
  waitForExit: (timeoutMs?: number) => Promise<number>;
  close: () => void;
};

/**
 * Starts `bun tasks/new.ts ARGS` in a detached tmux session on a private server, so the task sees
 * a real terminal. Its exit code lands in `statusFile`.
 */
export function openTerminal(args: string[], cwd: string, statusFile: string): Terminal {
  const socket = `ports-new-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const session = "wizard";
  const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, NEW_TASK, ...args].map(quote).join(" ");
  const script = `cd ${quote(cwd)} && NO_COLOR=1 TZ=Etc/UTC ${command}; echo $? > ${quote(statusFile)}; sleep 600`;
  tmux(socket, ["new-session", "-d", "-s", session, "-x", "160", "-y", "60", "sh", "-c", script]);
  const screen = () => tmux(socket, ["capture-pane", "-p", "-t", session, "-S", "-200"]);
  return {
    type: (text) => tmux(socket, ["send-keys", "-t", session, "-l", text]),
    press: (...keys) => tmux(socket, ["send-keys", "-t", session, ...keys]),
    screen,
    isCursorVisible: () =>
      tmux(socket, ["display-message", "-p", "-t", session, "#{cursor_flag}"]).trim() === "1",
    waitFor: async (text, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = screen();
        if (typeof text === "string" ? current.includes(text) : text.test(current)) return current;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${String(text)}; screen:\n${current}`);
        await Bun.sleep(50);
      }
    },
    waitForExit: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const file = Bun.file(statusFile);
        if (await file.exists()) {
          const text = (await file.text()).trim();
          if (text !== "") return Number(text);
        }
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for the task to exit; screen:\n${screen()}`);
        await Bun.sleep(50);
      }
    },
    close: () => {
      Bun.spawnSync(["tmux", "-L", socket, "kill-server"], { stdout: "ignore", stderr: "ignore" });
    },
  };
}
