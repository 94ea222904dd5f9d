/**
 * The command line: help, usage errors on one line, registry states, --warn, settings errors.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BatchSettings, PARALLEL_THRESHOLD, scanPaths, startScanWorker } from "../../lib/scan-batch.ts";
import { createByteReader, createPathFilter, createReader } from "../../lib/scan-files.ts";
import { createPortIndex } from "../../lib/scan-index.ts";
import {
  createReadAhead,
  createReadAheadConsumer,
  hasWorkerStarted,
  joinPaths,
  type ReadOutcome,
  readAhead,
  splitPaths,
} from "../../lib/scan-read-ahead.ts";
import type { ScanReport } from "../../tasks/scan-hardcoded.ts";
import { copyFixture, createGitRepo, registryRoot, removeTempRoots, runScan } from "./support.ts";

afterAll(removeTempRoots);

describe("command line", () => {
  test("--help prints the usage and exits 0", () => {
    const run = runScan(["--help"], copyFixture("comments"));
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toStartWith("Usage: bun tasks/scan-hardcoded.ts [options] [PATH...]\n");
    expect(run.stdout).toContain("--update-baseline");
  });

  test.each([
    [["--bogus"], "scan-hardcoded: unknown option --bogus; see --help\n"],
    [["--format", "xml"], 'scan-hardcoded: --format must be one of text, json, sarif, got "xml"\n'],
    [["--json", "--format", "sarif"], "scan-hardcoded: --json and --format are mutually exclusive\n"],
    [["--staged", "a.ts"], "scan-hardcoded: --staged scans the index; do not pass paths with it\n"],
    [["--registry", "missing.yaml"], "scan-hardcoded: missing.yaml: no such registry file\n"],
    [["nowhere.ts"], "scan-hardcoded: nowhere.ts: no such file or directory\n"],
    [
      ["--update-baseline", "--staged"],
      "scan-hardcoded: --update-baseline records a full scan; do not combine it with --staged or paths\n",
    ],
  ])("%p is a usage error on one line, exit 2", (args, stderr) => {
    expect(runScan(args as string[], copyFixture("comments"))).toEqual({ stdout: "", stderr, exitCode: 2 });
  });

  test("broken scanner settings name the file and the key", () => {
    const root = copyFixture("comments");
    writeFileSync(join(root, "config/ports/scan.yaml"), "ignore:\n  - path: fixtures/**\n");
    expect(runScan([], root)).toEqual({
      stdout: "",
      stderr:
        'scan-hardcoded: config/ports/scan.yaml: ignore.0.reason Invalid key: Expected "reason" but received undefined\n',
      exitCode: 2,
    });
  });

  test("ignore globs in the settings skip paths, counted", () => {
    const root = copyFixture("port-assignment");
    writeFileSync(
      join(root, "config/ports/scan.yaml"),
      'ignore:\n  - path: "services/**"\n    reason: the API keeps its legacy config until the move\n',
    );
    const report = JSON.parse(runScan(["--json"], root).stdout) as ScanReport;
    expect([report.skipped.ignored, [...new Set(report.findings.map((finding) => finding.file))]]).toEqual([
      3,
      [".env", "start.sh"],
    ]);
  });

  test("without a registry every port is unregistered, and the report says so", () => {
    const root = copyFixture("docker-host-port", false);
    expect(runScan([], root)).toEqual({
      stdout: [
        "Dockerfile:2:42 unregistered-port host.docker.internal:3403: port 3403 is not in the registry; register it (npm run ports:new) and read its variable from .env.shared",
        "note: no registry at config/ports/registry.yaml; every port counts as unregistered",
        "1 hardcoded port(s) in 1 file(s) (scanned 1 file(s))",
        "Fix: read the port from .env.shared through the variable each message names (unregistered ports: npm run ports:new first).",
        'Keep a literal on purpose: add "ports:allow <reason>" in a comment on that line or the line above; for many old findings at once: --update-baseline, then scan with --baseline.',
        "",
      ].join("\n"),
      stderr: "",
      exitCode: 1,
    });
  });

  test("an invalid registry still scans, with every port unregistered", () => {
    const root = copyFixture("docker-host-port");
    writeFileSync(join(root, "config/ports/registry.yaml"), 'version: "1.0.0"\nservices: 7\n');
    const run = runScan(["--json"], root);
    const report = JSON.parse(run.stdout) as ScanReport;
    expect([run.exitCode, report.registry, report.findings.map((finding) => finding.rule)]).toEqual([
      1,
      { file: "config/ports/registry.yaml", status: "invalid", services: 0 },
      ["unregistered-port"],
    ]);
  });

  test("--warn reports the same findings and exits 0", () => {
    const root = copyFixture("loopback-port");
    const strict = runScan([], root);
    const warn = runScan(["--warn"], root);
    expect([strict.exitCode, warn.exitCode, warn.stdout]).toEqual([1, 0, strict.stdout]);
  });

  test("explicit paths scan only those files and directories, relative to the working directory", () => {
    const root = copyFixture("localhost-port");
    const run = runScan(["--json", "--root", root, "../scripts", "client.ts"], join(root, "src"));
    const report = JSON.parse(run.stdout) as ScanReport;
    expect([report.discovery, [...new Set(report.findings.map((finding) => finding.file))]]).toEqual([
      "paths",
      ["scripts/dev.sh", "src/client.ts"],
    ]);
    rmSync(join(root, "src"), { recursive: true });
    const fromRoot = JSON.parse(runScan(["--json", "scripts"], root).stdout) as ScanReport;
    expect(fromRoot.findings.map((finding) => finding.file)).toEqual(["scripts/dev.sh"]);
  });
  test("in a git repository a directory argument reaches its new, untracked files, never its ignored ones", () => {
    const root = createGitRepo();
    mkdirSync(join(root, "newpkg"), { recursive: true });
    writeFileSync(join(root, "newpkg", "a.ts"), 'export const url = "http://localhost:4010";\n');
    writeFileSync(join(root, "newpkg", "built.ts"), 'export const url = "http://localhost:4007";\n');
    writeFileSync(join(root, ".gitignore"), "newpkg/built.ts\n");
    const whole = JSON.parse(runScan(["--json"], root).stdout) as ScanReport;
    expect(whole.findings).toEqual([]); // a whole-tree scan reads what git tracks
    const run = runScan(["--json", "newpkg"], root);
    const report = JSON.parse(run.stdout) as ScanReport;
    expect([run.exitCode, report.filesScanned, report.findings.map((finding) => finding.file)]).toEqual([
      1,
      1,
      ["newpkg/a.ts"],
    ]);
  });
});

/** A tree past PARALLEL_THRESHOLD files: findings, allowed lines and an ignored third, in many directories. */
function createLargeTree(): string {
  const root = copyFixture("port-assignment");
  for (let index = 0; index < PARALLEL_THRESHOLD + 100; index++) {
    const directory = join(root, index % 3 === 0 ? "legacy" : "apps", `app-${index % 40}`);
    mkdirSync(directory, { recursive: true });
    const body =
      index % 5 === 0
        ? `const url = "http://localhost:${20000 + index}/v1";\n`
        : index % 7 === 0
          ? `API_PORT=${30000 + index} # ports:allow the legacy ${index} runner\n`
          : `export const name${index} = "service ${index}";\n`;
    writeFileSync(join(directory, index % 7 === 0 ? `run-${index}.sh` : `file-${index}.ts`), body);
  }
  writeFileSync(
    join(root, "config/ports/scan.yaml"),
    'ignore:\n  - path: "legacy/**"\n    reason: the legacy tree moves next quarter\n',
  );
  return root;
}

describe("two scanning threads", () => {
  const largeTreeSettings = (root: string): BatchSettings => ({
    root,
    minPort: 1024,
    maxFileBytes: 1024 * 1024,
    ignore: ["legacy/**"],
    exclude: ["config/ports/registry.yaml"],
  });

  test("with a worker reading ahead, a scan finds, allows and ignores exactly what one thread does", () => {
    const root = createLargeTree();
    const paths = [...new Bun.Glob("**/*").scanSync({ cwd: root, dot: true })].sort();
    const settings = largeTreeSettings(root);
    const index = createPortIndex(undefined);
    const oneThread = scanPaths(paths, index, settings);
    const twoThreads = scanPaths(paths, index, settings, startScanWorker());
    expect(oneThread.skipped.ignored).toBe(Math.ceil((PARALLEL_THRESHOLD + 100) / 3));
    expect(oneThread.inline).toBeGreaterThan(10);
    expect(oneThread.findings.length).toBeGreaterThan(50);
    expect(twoThreads).toEqual(oneThread);
    expect(splitPaths(joinPaths(paths))).toEqual(paths);
    expect(splitPaths(joinPaths([]))).toEqual([]);
  });

  /** Files of every outcome: text, UTF-8, too large for a slot, over the cap, binary, a symlink, ignored, excluded. */
  function createOutcomeTree(): { root: string; paths: string[]; settings: BatchSettings } {
    const root = copyFixture("port-assignment");
    writeFileSync(join(root, "plain.ts"), 'const url = "http://localhost:4010";\n');
    writeFileSync(join(root, "utf8.sh"), "# café 日本\ncurl localhost:4007\n");
    writeFileSync(join(root, "large.sh"), `${"#".repeat(300 * 1024)}\ncurl localhost:4010\n`);
    writeFileSync(join(root, "huge.sh"), "x".repeat(600 * 1024));
    writeFileSync(join(root, "blob.json"), Buffer.from([123, 0, 125]));
    writeFileSync(join(root, "empty.env"), "");
    symlinkSync("plain.ts", join(root, "link.ts"));
    mkdirSync(join(root, "legacy"));
    writeFileSync(join(root, "legacy", "old.ts"), "PORT=4010\n");
    writeFileSync(join(root, "notes.txt"), "localhost:4010\n");
    const paths = ["plain.ts", "utf8.sh", "large.sh", "huge.sh", "blob.json", "empty.env", "link.ts"];
    paths.push("legacy/old.ts", "notes.txt", "missing.ts");
    const settings = { ...largeTreeSettings(root), maxFileBytes: 512 * 1024 };
    return { root, paths, settings };
  }

  /** What one thread makes of each position: the path filter's verdict, then the read. */
  function readOnOneThread(paths: string[], settings: BatchSettings): ReadOutcome[] {
    const filter = createPathFilter(settings);
    const read = createReader(settings.root, settings.maxFileBytes);
    return paths.map((path) => {
      const verdict = filter(path);
      return verdict === "read" ? read(path) : { filtered: verdict };
    });
  }

  test("every outcome crosses the shared slots unchanged, and a worker that never starts changes nothing", () => {
    const { paths, settings } = createOutcomeTree();
    const expected = readOnOneThread(paths, settings);
    expect(expected.map((outcome) => Object.keys(outcome)[0])).toEqual([
      "text",
      "text",
      "text",
      "skip",
      "skip",
      "text",
      "skip",
      "filtered",
      "filtered",
      "skip",
    ]);
    // The worker fills the slots first (fewer files than slots, so it never waits), then the main thread reads them.
    const ahead = createReadAhead(settings.maxFileBytes);
    const filled = readAhead(
      ahead,
      paths,
      createPathFilter(settings),
      createByteReader(settings.root, settings.maxFileBytes),
    );
    expect(filled).toBe(paths.length);
    const consumer = createReadAheadConsumer(ahead, paths, settings);
    expect(paths.map((_, position) => consumer.read(position))).toEqual(expected);
    consumer.finish();
    // Without a worker the main thread claims every position itself.
    const alone = createReadAheadConsumer(createReadAhead(settings.maxFileBytes), paths, settings);
    expect(paths.map((_, position) => alone.read(position))).toEqual(expected);
    alone.finish();
  });

  /** The outcome tree's files, many times over: more positions than the ring has slots. */
  function repeatPaths(paths: string[], times: number): string[] {
    return Array.from({ length: times }, () => paths).flat();
  }

  /** Starts `worker` on `paths` and waits until it has begun. */
  async function startReadingAhead(
    worker: Worker,
    paths: string[],
    settings: BatchSettings,
    extra: Record<string, unknown> = {},
  ) {
    const ahead = createReadAhead(settings.maxFileBytes);
    const { root, maxFileBytes, ignore, exclude } = settings;
    worker.postMessage({ ahead, paths: joinPaths(paths), root, maxFileBytes, ignore, exclude, ...extra });
    const deadline = performance.now() + 10_000;
    while (!hasWorkerStarted(ahead) && performance.now() < deadline) await Bun.sleep(1);
    return createReadAheadConsumer(ahead, paths, settings);
  }

  test("a worker ahead of the main thread serves almost every position, through the ring many times over", async () => {
    const tree = createOutcomeTree();
    const paths = repeatPaths(tree.paths, 30);
    const expected = readOnOneThread(paths, tree.settings);
    const worker = startScanWorker();
    try {
      const consumer = await startReadingAhead(worker, paths, tree.settings);
      // The main thread takes its time with each file, as matching does.
      const pause = new Int32Array(new SharedArrayBuffer(4));
      const outcomes = paths.map((_, position) => {
        Atomics.wait(pause, 0, 0, 0.2);
        return consumer.read(position);
      });
      consumer.finish();
      expect(outcomes).toEqual(expected);
      expect(consumer.counts.fromWorker + consumer.counts.here).toBe(paths.length);
      expect(consumer.counts.fromWorker).toBeGreaterThan(paths.length * 0.9);
    } finally {
      worker.terminate();
    }
  });

  test("a worker behind the main thread: the main thread waits or reads ahead itself, and every outcome is the same", async () => {
    const tree = createOutcomeTree();
    const paths = repeatPaths(tree.paths, 30);
    const expected = readOnOneThread(paths, tree.settings);
    const worker = new Worker(new URL("./slow-reader.worker.ts", import.meta.url).href);
    try {
      const consumer = await startReadingAhead(worker, paths, tree.settings, { pauseMs: 1 });
      const outcomes = paths.map((_, position) => consumer.read(position));
      consumer.finish();
      expect(outcomes).toEqual(expected);
      expect(consumer.counts.fromWorker).toBeGreaterThan(0);
      expect(consumer.counts.here).toBeGreaterThan(paths.length / 2);
    } finally {
      worker.terminate();
    }
  });

  test("a worker that fails mid-list leaves the rest to the main thread, including the position it claimed", () => {
    const { paths, settings } = createOutcomeTree();
    const expected = readOnOneThread(paths, settings);
    const ahead = createReadAhead(settings.maxFileBytes);
    const readBytes = createByteReader(settings.root, settings.maxFileBytes);
    let calls = 0;
    expect(() =>
      readAhead(ahead, paths, createPathFilter(settings), (path) => {
        if (++calls === 3) throw new Error("the disk went away");
        return readBytes(path);
      }),
    ).toThrow("the disk went away");
    const consumer = createReadAheadConsumer(ahead, paths, settings);
    expect(paths.map((_, position) => consumer.read(position))).toEqual(expected);
  });

  test("a whole-tree scan of many files reports exactly what a scan of the same paths on one thread reports", () => {
    // Past PARALLEL_THRESHOLD files both scans read ahead on a worker thread; the tests above hold
    // the worker's part to a scan on one thread.
    const root = createLargeTree();
    const wholeTree = runScan(["--json"], root);
    const onePaths = runScan(["--json", "."], root);
    const whole = JSON.parse(wholeTree.stdout) as ScanReport;
    const paths = JSON.parse(onePaths.stdout) as ScanReport;
    expect([wholeTree.exitCode, wholeTree.stderr]).toEqual([1, ""]);
    expect(whole.skipped.ignored).toBe(Math.ceil((PARALLEL_THRESHOLD + 100) / 3));
    expect(whole.findings.length).toBeGreaterThan(50);
    expect({ ...whole, discovery: "paths" }).toEqual(paths);
  });
});

describe("files as editors and teams write them", () => {
  test("a byte-order mark is not a column, and a compose file that starts with one is still compose", () => {
    const root = registryRoot();
    writeFileSync(join(root, "client.ts"), '\uFEFFconst a = "localhost:3999";\n');
    writeFileSync(join(root, "compose.yml"), '\uFEFFservices:\n  extra:\n    ports:\n      - "3998:80"\n');
    const report = JSON.parse(runScan(["--json"], root).stdout) as ScanReport;
    expect(report.findings.map((finding) => [finding.file, finding.line, finding.col, finding.rule])).toEqual(
      [
        ["client.ts", 1, 22, "unregistered-port"],
        ["compose.yml", 4, 10, "compose-port-unknown"],
      ],
    );
  });

  test("below minPort an unknown port is ignored, but a registered service on the wrong port is drift", () => {
    const root = registryRoot();
    writeFileSync(
      join(root, "compose.yml"),
      'services:\n  dashboard:\n    ports:\n      - "80:3100"\n  proxy:\n    ports:\n      - "443:443"\n',
    );
    const report = JSON.parse(runScan(["--json"], root).stdout) as ScanReport;
    expect(report.findings.map((finding) => [finding.line, finding.rule, finding.port])).toEqual([
      [4, "compose-port-mismatch", 80],
    ]);
  });

  test("the scanner's settings file is not scanned, like the registry and the baseline", () => {
    const root = registryRoot();
    const settings =
      'ignore:\n  - path: "legacy/**"\n    reason: the legacy client still calls localhost:3990\n';
    writeFileSync(join(root, "config/ports/scan.yaml"), settings);
    writeFileSync(join(root, "other.yaml"), settings);
    const report = JSON.parse(runScan(["--json"], root).stdout) as ScanReport;
    expect(report.findings.map((finding) => [finding.file, finding.port])).toEqual([["other.yaml", 3990]]);
  });
});
