import { afterEach, describe, expect, test } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Holder } from "../../lib/allocate.ts";
import type { DoctorReport } from "../../tasks/doctor.ts";
import { copyFixture, removeDir, runTask } from "../core/support.ts";
import { type HeldPort, holdPortIn, ownCommand } from "./support.ts";

const RANGE = { min: 21700, max: 21799 };
const REGISTERED = [21710, 21711];

let held: HeldPort[] = [];
let roots: string[] = [];

afterEach(async () => {
  await Promise.all(held.map((port) => port.close()));
  await Promise.all(roots.map((root) => removeDir(root)));
  held = [];
  roots = [];
});

/** A copy of the lab registry whose container service lab-cache sits on `cachePort`. */
async function labRoot(cachePort = 21710): Promise<string> {
  const root = await copyFixture("doctor/lab");
  roots.push(root);
  const path = join(root, "config", "ports", "registry.yaml");
  const text = await readFile(path, "utf8");
  await writeFile(path, text.replace("port: 21710", `port: ${cachePort}`));
  return root;
}

const ourHolder = (): Holder => ({
  transport: "tcp",
  family: 4,
  address: "127.0.0.1",
  isContainerProcess: false,
  pid: process.pid,
  command: ownCommand(),
});

describe("ports:doctor against real loopback listeners", () => {
  test("a container service's port held by this (non-container) process and an unknown listener are conflicts", async () => {
    const cache = await holdPortIn(RANGE.min, RANGE.max, REGISTERED);
    held.push(cache);
    const stray = await holdPortIn(RANGE.min, RANGE.max, [...REGISTERED, cache.port]);
    held.push(stray);
    const root = await labRoot(cache.port);

    const result = runTask("doctor", ["--json", "--root", root]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report.isValid).toBe(true);
    expect(report.inUse).toEqual([
      { service: "lab-cache", stack: "lab", port: cache.port, isContainer: true, holders: [ourHolder()] },
    ]);
    expect(report.containerPortsTaken).toEqual([
      { service: "lab-cache", port: cache.port, holders: [ourHolder()] },
    ]);
    expect(report.unknown.filter((item) => item.port === stray.port)).toEqual([
      { port: stray.port, stack: "lab", range: "21700-21799", holders: [ourHolder()] },
    ]);
    expect(report.conflicts).toBe(1 + report.unknown.length);
    expect(report.listeners).toBeGreaterThanOrEqual(2);
  });

  test("text output names the port, the service, the pid and the command", async () => {
    const cache = await holdPortIn(RANGE.min, RANGE.max, REGISTERED);
    held.push(cache);
    const root = await labRoot(cache.port);

    const result = runTask("doctor", ["--root", root]);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(1);
    const owner = `pid ${process.pid} (${ownCommand()}) on tcp 127.0.0.1`;
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "Registered ports in use:",
      `  ${cache.port} lab-cache                ${owner}`,
      "Container services whose port a process outside any container holds:",
      `  ${cache.port} lab-cache                ${owner}`,
    ]);
    expect(lines.at(-1)).toMatch(
      /^doctor: 1 conflict\(s\); 1 registered port\(s\) in use; \d+ listener\(s\) on this machine$/,
    );
  });

  test("a native service's port held by a process is reported but is not a conflict", async () => {
    const tool = await holdPortIn(21711, 21711);
    held.push(tool);
    const root = await labRoot();

    const result = runTask("doctor", ["--json", "--root", root]);
    expect(result.stderr).toBe("");
    const report = JSON.parse(result.stdout) as DoctorReport;
    expect(report.inUse).toEqual([
      { service: "lab-tool", stack: "lab", port: 21711, isContainer: false, holders: [ourHolder()] },
    ]);
    expect(report.containerPortsTaken).toEqual([]);
    expect(result.exitCode).toBe(report.unknown.length > 0 ? 1 : 0);
  });

  test("an invalid registry is reported with positions and exit 1", async () => {
    const root = await labRoot(99999);
    const result = runTask("doctor", ["--root", root]);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      [
        "config/ports/registry.yaml:15:11 error schema-value lab-cache: services[0].port must be between 1024 and 65535, got 99999",
        "doctor: config/ports/registry.yaml has errors; fix them first (npm run ports:validate)",
        "",
      ].join("\n"),
    );
    expect(result.exitCode).toBe(1);
  });

  test("an unknown flag is a usage error", () => {
    const result = runTask("doctor", ["--jsn"]);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^doctor: unknown option --jsn \(did you mean --json\?\); see --help\n$/);
    expect(result.exitCode).toBe(2);
  });
});
