// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${VAR}` is shell syntax in the files under test
/**
 * Safety: symlinks are never followed (file, directory, explicit argument), nothing outside the root
 * is read, FIFOs do not block, binary and oversized files are skipped and counted.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createReader } from "../../lib/scan-files.ts";
import type { ScanReport } from "../../tasks/scan-hardcoded.ts";
import { createGitRepo, createTempRoot, git, REGISTRY, removeTempRoots, runScan } from "./support.ts";

afterAll(removeTempRoots);

/** A directory outside the scanned root holding a file with a port, the target of every escape attempt. */
function createOutside(): string {
  const outside = createTempRoot();
  writeFileSync(join(outside, "secret.ts"), 'export const url = "http://localhost:4010";\n');
  return outside;
}

function scanJson(
  args: string[],
  root: string,
  registry: string[] = ["--registry", REGISTRY],
): { report: ScanReport; exitCode: number; stderr: string } {
  const run = runScan([...args, "--json", ...registry], root);
  return { report: JSON.parse(run.stdout) as ScanReport, exitCode: run.exitCode, stderr: run.stderr };
}

describe("symlink escapes", () => {
  test("a symlinked file and a symlinked directory are skipped, never read", () => {
    const outside = createOutside();
    const root = createTempRoot();
    writeFileSync(join(root, "ok.ts"), "export const ok = 1;\n");
    symlinkSync(join(outside, "secret.ts"), join(root, "link.ts"));
    symlinkSync(outside, join(root, "linked-dir"));
    symlinkSync("../../../../../../etc/passwd", join(root, "relative.sh"));
    // Outside git the walk never lists a symlink, so it is neither opened nor counted.
    const { report, exitCode, stderr } = scanJson([], root);
    expect({ exitCode, stderr, findings: report.findings, scanned: report.filesScanned }).toEqual({
      exitCode: 0,
      stderr: "",
      findings: [],
      scanned: 1,
    });
  });

  test("explicit paths outside the root, through a symlinked directory or a symlink, are refused", () => {
    const outside = createOutside();
    const root = createTempRoot();
    symlinkSync(outside, join(root, "linked-dir"));
    symlinkSync(join(outside, "secret.ts"), join(root, "link.ts"));
    const { report, exitCode } = scanJson(
      [join(outside, "secret.ts"), "../", "linked-dir/secret.ts", "link.ts"],
      root,
    );
    expect({ exitCode, findings: report.findings, scanned: report.filesScanned }).toEqual({
      exitCode: 0,
      findings: [],
      scanned: 0,
    });
    expect([report.skipped["outside-root"], report.skipped.symlink]).toEqual([3, 1]);
  });

  test("a symlink tracked by git is skipped too", () => {
    const outside = createOutside();
    const root = createGitRepo();
    symlinkSync(join(outside, "secret.ts"), join(root, "tracked-link.ts"));
    git(root, "add", "tracked-link.ts");
    git(root, "commit", "-q", "-m", "link");
    const { report, exitCode } = scanJson([], root, []);
    expect({
      exitCode,
      discovery: report.discovery,
      findings: report.findings,
      symlink: report.skipped.symlink,
    }).toEqual({
      exitCode: 0,
      discovery: "tracked",
      findings: [],
      symlink: 1,
    });
  });
});

describe("special, binary and large files", () => {
  test("a FIFO does not block, a NUL marks binary, the size cap holds; each is counted", () => {
    const root = createTempRoot();
    Bun.spawnSync(["mkfifo", join(root, "pipe.ts")]);
    writeFileSync(
      join(root, "blob.json"),
      Buffer.concat([Buffer.from('{"port": 4010}'), Buffer.from([0, 1, 2])]),
    );
    writeFileSync(join(root, "big.sh"), `${"#".repeat(5000)}\ncurl localhost:4010\n`);
    writeFileSync(join(root, "ok.sh"), "curl localhost:4007\n");
    mkdirSync(join(root, "config", "ports"), { recursive: true });
    writeFileSync(join(root, "config", "ports", "scan.yaml"), "maxFileBytes: 4096\n");
    const started = performance.now();
    // A FIFO is never listed by a walk or by git, but it can be named on the command line.
    const run = runScan(["--registry", REGISTRY, "pipe.ts", "blob.json", "big.sh", "ok.sh"], root);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(run).toEqual({
      stdout: [
        "ok.sh:1:16 localhost-port localhost:4007 hardcodes the port of telegram-mtproto; use ${TELEGRAM_MTPROTO_URL} instead (from the host: localhost and ${TELEGRAM_MTPROTO_PORT})",
        "1 hardcoded port(s) in 1 file(s) (scanned 1 file(s); skipped 1 binary, 1 too-large, 1 special)",
        "Fix: read the port from .env.shared through the variable each message names (unregistered ports: npm run ports:new first).",
        'Keep a literal on purpose: add "ports:allow <reason>" in a comment on that line or the line above; for many old findings at once: --update-baseline, then scan with --baseline.',
        "",
      ].join("\n"),
      stderr: "",
      exitCode: 1,
    });
  });
});

describe("the file reader", () => {
  test("reads files of any size up to the cap exactly, and classifies the rest", () => {
    const root = createTempRoot();
    const cap = 2 * 1024 * 1024;
    const large = `${"x".repeat(700 * 1024)}\ncurl localhost:4010 # é 日本\n`;
    writeFileSync(join(root, "large.sh"), large);
    writeFileSync(join(root, "at-cap.sh"), "y".repeat(cap));
    writeFileSync(join(root, "over-cap.sh"), "z".repeat(cap + 1));
    writeFileSync(join(root, "empty.sh"), "");
    writeFileSync(join(root, "nul-late.json"), `${"a".repeat(9000)}\0`);
    mkdirSync(join(root, "dir.sh"));
    const read = createReader(root, cap);
    expect(read("large.sh")).toEqual({ text: large });
    expect(read("at-cap.sh")).toEqual({ text: "y".repeat(cap) });
    expect(read("over-cap.sh")).toEqual({ skip: "too-large" });
    expect(read("empty.sh")).toEqual({ text: "" });
    // Only the first 8 KB decide "binary", as for git.
    expect(read("nul-late.json")).toEqual({ text: `${"a".repeat(9000)}\0` });
    expect(read("dir.sh")).toEqual({ skip: "special" });
    expect(read("missing.sh")).toEqual({ skip: "unreadable" });
    // A FIFO with a live writer and data waiting is special too, not what it happens to hold.
    Bun.spawnSync(["mkfifo", join(root, "pipe.sh")]);
    const writer = openSync(join(root, "pipe.sh"), "r+"); // read-write: never blocks on Linux
    try {
      writeSync(writer, "curl localhost:4010\n");
      expect(read("pipe.sh")).toEqual({ skip: "special" });
    } finally {
      closeSync(writer);
    }
    // The buffer is shared: a short file after a long one holds only its own bytes.
    writeFileSync(join(root, "short.sh"), "curl localhost:4007\n");
    expect(read("short.sh")).toEqual({ text: "curl localhost:4007\n" });
  });
});
