import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTaskAsync } from "../core/support.ts";

const ROOT = join(import.meta.dir, "..", "..");

const HINT = [
  "  install: sudo apt-get install -y docker.io docker-compose   (Debian/Ubuntu; or Docker Desktop)",
  "  start:   sudo systemctl start docker   (or: sudo dockerd >/tmp/dockerd.log 2>&1 &)",
].join("\n");

function runSmoke(args: string[], env: Record<string, string | undefined> = {}) {
  return runTaskAsync("smoke-mtproto", args, ROOT, { CI: "true", ...env });
}

let binDir: string;

beforeAll(async () => {
  // A PATH with bash (the shell zx runs commands in) and nothing else: no docker at all.
  binDir = await mkdtemp(join(tmpdir(), "smoke-path-"));
  await symlink(Bun.which("bash") ?? "/bin/bash", join(binDir, "bash"));
});

afterAll(async () => {
  await rm(binDir, { recursive: true, force: true });
});

describe("tasks/smoke-mtproto.ts prerequisites", () => {
  test("an unreachable engine (DOCKER_HOST at a missing socket) exits 2 with the install hint, before anything else", async () => {
    const socket = join(binDir, "missing", "docker.sock");
    const result = await runSmoke(["--offline-base", "--native"], { DOCKER_HOST: `unix://${socket}` });
    expect(result.stdout).toBe("");
    expect(
      result.stderr.replace(/^(smoke-mtproto: no Docker engine is reachable) \(.*\)$/m, "$1 (REASON)"),
    ).toBe(`smoke-mtproto: no Docker engine is reachable (REASON)\n${HINT}\n`);
    expect(result.stderr).toContain(socket);
    expect(result.exitCode).toBe(2);
  });

  test("no docker command at all exits 2 and says so", async () => {
    const result = await runSmoke([], { PATH: binDir });
    expect(result).toEqual({
      stdout: "",
      stderr: `smoke-mtproto: no Docker engine is reachable (the docker command is not installed)\n${HINT}\n`,
      exitCode: 2,
    });
  });
});

describe("tasks/smoke-mtproto.ts flags", () => {
  test("--help prints usage with every flag and exits 0", async () => {
    const result = await runSmoke(["--help"]);
    expect(result.stdout).toStartWith("Usage: bun tasks/smoke-mtproto.ts [options]\n");
    for (const flag of [
      "--offline-base",
      "--native",
      "--timeout SECONDS",
      "--json",
      "--registry PATH",
      "--root DIR",
    ]) {
      expect(result.stdout).toContain(`  ${flag}`);
    }
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
  });

  test.each([
    [["--offline"], "smoke-mtproto: unknown option --offline; see --help"],
    [["--timeout", "0"], 'smoke-mtproto: --timeout must be whole seconds between 1 and 3600, got "0"'],
  ])("usage error %j exits 2 with one line and starts nothing", async (args, message) => {
    const result = await runSmoke(args, { PATH: binDir });
    expect(result).toEqual({ stdout: "", stderr: `${message}\n`, exitCode: 2 });
  });
});
