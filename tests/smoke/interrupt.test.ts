/**
 * Ctrl-C against a real Docker engine: once the stack is up, SIGINT must still tear the project
 * down (containers, volumes, network) and exit 130. Runs where an engine answers; CI runs it as
 * the `smoke-interrupt` gate after starting dockerd.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const TASK = join(ROOT, "tasks", "smoke-mtproto.ts");

function isEngineReachable(): boolean {
  try {
    return Bun.spawnSync(["docker", "version", "--format", "{{.Server.Version}}"]).exitCode === 0;
  } catch {
    return false;
  }
}

function dockerLines(args: string[]): string[] {
  return Bun.spawnSync(["docker", ...args])
    .stdout.toString()
    .trim()
    .split("\n")
    .filter(Boolean);
}

describe.if(isEngineReachable())("tasks/smoke-mtproto.ts against a Docker engine", () => {
  test(
    "SIGINT after the stack is up tears everything down and exits 130",
    async () => {
      const child = Bun.spawn([process.execPath, TASK, "--offline-base"], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: "1", TZ: "Etc/UTC", CI: "true" },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const stdoutText = new Response(child.stdout).text();
      let stderr = "";
      let project = "";
      let isKilled = false;
      const decoder = new TextDecoder();
      const reader = child.stderr.getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        stderr += decoder.decode(chunk.value, { stream: true });
        project ||= /\(project (ptg-smoke-[a-z0-9-]+)\)/.exec(stderr)?.[1] ?? "";
        if (!isKilled && /^smoke: check 1 (pass|fail)/m.test(stderr)) {
          // The stack is up (or failed to come up): the worst moment to leave things behind.
          child.kill("SIGINT");
          isKilled = true;
        }
      }
      const exitCode = await child.exited;
      const stdout = await stdoutText;

      expect(project).toMatch(/^ptg-smoke-\d+-[0-9a-f]{8}$/);
      expect(stderr).toContain("smoke: check 1 pass");
      expect(stderr).toContain("smoke-mtproto: interrupted; tearing down (down -v)…");
      expect(stdout).toMatch(/^interrupted after \d+\.\d s; torn down$/m);
      expect(exitCode).toBe(130);
      const label = `label=com.docker.compose.project=${project}`;
      expect({
        containers: dockerLines(["ps", "-aq", "--filter", label]),
        volumes: dockerLines(["volume", "ls", "-q", "--filter", label]),
        networks: dockerLines(["network", "ls", "-q", "--filter", label]),
      }).toEqual({ containers: [], volumes: [], networks: [] });
    },
    { timeout: 120_000 },
  );
});
