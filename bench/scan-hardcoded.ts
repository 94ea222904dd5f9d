/**
 * Benchmark: `ports:scan-hardcoded` against ripgrep running the same patterns over the same files.
 *
 * Generates a monorepo-shaped git tree (about 5,000 files, 20 MB of ts, sh, yml, json and .env)
 * under bench/.out/, with ports planted at known places, then times both tools in the same run.
 * Target: the scanner within 2x of ripgrep's wall time, with every planted port found.
 *
 *   bun bench/scan-hardcoded.ts [--files N] [--runs N]
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import type { ScanReport } from "../tasks/scan-hardcoded.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { files: { type: "string", default: "5000" }, runs: { type: "string", default: "7" } },
});
const FILE_COUNT = Number(values.files);
const RUNS = Number(values.runs);
const REPO = join(import.meta.dir, "..");
const TREE = join(import.meta.dir, ".out", "scan-tree");
const BUN = process.execPath;

/** Deterministic PRNG (mulberry32), so every run generates the same tree. */
function createRandom(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = createRandom(42);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const WORDS = [
  "order",
  "signal",
  "quote",
  "ledger",
  "session",
  "report",
  "import",
  "export",
  "support",
  "transport",
];

const FILLER: Record<string, () => string> = {
  ts: () =>
    pick([
      `import { ${pick(WORDS)}Service } from "../${pick(WORDS)}/index.ts";`,
      `export function handle${pick(WORDS)}(input: string): number { return input.length * ${Math.floor(random() * 9999)}; }`,
      `  const ${pick(WORDS)}Timeout = Number(process.env.${pick(WORDS).toUpperCase()}_TIMEOUT ?? 30);`,
      `  logger.info("processed ${pick(WORDS)} batch", { count: items.length, at: Date.now() });`,
      "  // TODO: move this to the shared transport layer once the report viewport is settled",
      `  return await fetch(\`\${process.env.${pick(WORDS).toUpperCase()}_URL}/api/v1/${pick(WORDS)}\`);`,
    ]),
  sh: () =>
    pick([
      `echo "starting ${pick(WORDS)} worker" >&2`,
      `if [ -f "\${ROOT}/${pick(WORDS)}.lock" ]; then rm -f "\${ROOT}/${pick(WORDS)}.lock"; fi`,
      `mkdir -p "\${TMPDIR:-/tmp}/${pick(WORDS)}"`,
      `export ${pick(WORDS).toUpperCase()}_RETRIES=${Math.floor(random() * 9)}`,
    ]),
  yml: () =>
    `  ${pick(WORDS)}${Math.floor(random() * 1e9)}: ${pick(WORDS)}-value-${Math.floor(random() * 1000)}`,
  compose: () => {
    const name = `${pick(WORDS)}-${Math.floor(random() * 1e9)}`;
    return [
      `  ${name}:`,
      `    image: ghcr.io/tradingsystem/${pick(WORDS)}:1.${Math.floor(random() * 20)}.0`,
      "    restart: unless-stopped",
      "    environment:",
      "      LOG_LEVEL: info",
      `      ${pick(WORDS).toUpperCase()}_URL: \${${pick(WORDS).toUpperCase()}_URL}`,
    ].join("\n");
  },
  json: () =>
    `  "${pick(WORDS)}${Math.floor(random() * 1000)}": { "enabled": true, "retries": ${Math.floor(random() * 9)}, "label": "${pick(WORDS)}" },`,
  env: () =>
    `${pick(WORDS).toUpperCase()}_${pick(["TIMEOUT", "RETRIES", "LEVEL"])}=${Math.floor(random() * 500)}`,
};

/** One planted port per kind, each as the line a real repository would contain. */
const PLANTS: Record<string, (port: number) => string> = {
  ts: (port) => `  const client = createClient("http://localhost:${port}/api");`,
  sh: (port) => `export PORT=${port}`,
  yml: (port) => `  ports:\n    - "${port}:${port}"`,
  compose: (port) => `  planted-${port}:\n    image: nginx:1.27\n    ports:\n      - "${port}:80"`,
  json: (port) => `  "upstream": { "url": "http://127.0.0.1:${port}/v1" },`,
  env: (port) => `GATEWAY_URL=http://host.docker.internal:${port}`,
};

type Layout = { path: string; kind: keyof typeof FILLER };

function layoutOf(index: number): Layout {
  const app = `app${index % 60}`;
  const roll = index % 20;
  if (roll < 9) return { path: `apps/${app}/src/${pick(WORDS)}/${pick(WORDS)}-${index}.ts`, kind: "ts" };
  if (roll < 12) return { path: `services/${app}/scripts/${pick(WORDS)}-${index}.sh`, kind: "sh" };
  if (roll < 14) return { path: `infra/${app}/${pick(WORDS)}-${index}.yml`, kind: "yml" };
  if (roll < 15) return { path: `infra/${app}/docker-compose.${pick(WORDS)}-${index}.yml`, kind: "compose" };
  if (roll < 18) return { path: `packages/${app}/config/${pick(WORDS)}-${index}.json`, kind: "json" };
  return { path: `services/${app}/.env.${pick(["local", "test", "example"])}${index}`, kind: "env" };
}

function generateTree(): { planted: Set<string>; bytes: number } {
  rmSync(TREE, { recursive: true, force: true });
  mkdirSync(TREE, { recursive: true });
  const planted = new Set<string>();
  let bytes = 0;
  for (let index = 0; index < FILE_COUNT; index++) {
    const { path, kind } = layoutOf(index);
    const lines: string[] =
      kind === "json" ? ["{"] : kind === "yml" ? ["config:"] : kind === "compose" ? ["services:"] : [];
    const target = 3000 + Math.floor(random() * 2000);
    let size = 0;
    let lineCount = lines.length;
    // A quarter of the files, spread over every kind: in each block of 20 (one of each layout
    // roll) the planted residue moves on, so ts, sh, yml, compose, json and env all get ports.
    const isPlanted = index % 4 === Math.floor(index / 20) % 4;
    const plantAt = Math.floor(random() * 40);
    let hasPlanted = false;
    while (size < target) {
      let entry: string;
      if (isPlanted && !hasPlanted && lines.length >= plantAt) {
        // ports:allow the benchmark plants random unregistered ports on purpose
        const port = 10000 + Math.floor(random() * 20000);
        entry = (PLANTS[kind] as (port: number) => string)(port);
        const portLine = lineCount + entry.split("\n").length;
        planted.add(`${path}:${portLine}:${port}`);
        hasPlanted = true;
      } else {
        entry = (FILLER[kind] as () => string)();
      }
      lines.push(entry);
      lineCount += entry.split("\n").length;
      size += entry.length + 1;
    }
    if (kind === "json") lines.push('  "end": true', "}");
    const content = `${lines.join("\n")}\n`;
    mkdirSync(dirname(join(TREE, path)), { recursive: true });
    writeFileSync(join(TREE, path), content);
    bytes += content.length;
  }
  const git = (...args: string[]) =>
    Bun.spawnSync(["git", "-C", TREE, ...args], { stdout: "ignore", stderr: "ignore" });
  git("init", "-q");
  git("add", "-A");
  git("-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit", "-qm", "tree");
  return { planted, bytes };
}

/** The scanner's patterns for ripgrep, over the same file types. */
const RG_PATTERNS = [
  String.raw`(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1?\]|host\.docker\.internal):[0-9]{1,5}`,
  // The scanner's key anchors: a port name never ends in port right after a letter or digit.
  String.raw`(?:^|[^A-Za-z0-9])(?:port|PORT)(?:_[A-Za-z0-9]+)*["']?[ \t]*[:=][ \t]*["']?[0-9]{1,5}`,
  String.raw`(?:^|[^A-Z])Port["']?[ \t]*[:=][ \t]*["']?[0-9]{1,5}`,
  String.raw`--?[a-z0-9.-]*port["']?[ \t]*,?[ \t]+["']?[0-9]{1,5}`,
  String.raw`\.listen\([ \t]*[0-9]{1,5}`,
  String.raw`env\.[A-Za-z0-9_]*PORT[A-Za-z0-9_]*\)?[ \t]*(?:\|\||\?\?)[ \t]*["']?[0-9]{1,5}`,
  String.raw`^[ \t]*-[ \t]*["']?[0-9]{1,5}:[0-9]{1,5}`,
  "(?:-p|--publish)[ =][\"']?[0-9.:]+",
];
const RG_ARGS = [
  "--hidden",
  "--no-heading",
  "-n",
  ...[
    "*.{js,ts,jsx,tsx,mjs,cjs,mts,cts,yml,yaml,sh,bash,zsh,json,jsonc}",
    ".env*",
    "*.env",
    "Dockerfile*",
  ].flatMap((glob) => ["-g", glob]),
  ...RG_PATTERNS.flatMap((pattern) => ["-e", pattern]),
  ".",
];

function time(command: string[]): { ms: number; stdout: string; exitCode: number } {
  const start = performance.now();
  const result = Bun.spawnSync(command, {
    cwd: TREE,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { ms: performance.now() - start, stdout: result.stdout.toString(), exitCode: result.exitCode ?? -1 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

if (!Bun.which("rg")) {
  console.error("ripgrep (rg) is not installed: apt-get install -y ripgrep");
  process.exit(2);
}
if (!existsSync(join(REPO, "tasks", "scan-hardcoded.ts"))) process.exit(2);

const { planted, bytes } = generateTree();
const scanCommand = [BUN, join(REPO, "tasks", "scan-hardcoded.ts"), "--root", TREE, "--format", "json"];
const stagedFree = time(scanCommand);
const report = JSON.parse(stagedFree.stdout) as ScanReport;
const found = new Set(report.findings.map((finding) => `${finding.file}:${finding.line}:${finding.port}`));
const missed = [...planted].filter((key) => !found.has(key));
const rgCheck = time(["rg", ...RG_ARGS]);
const rgLines = rgCheck.stdout.split("\n").filter(Boolean).length;

const scanTimes: number[] = [];
const rgTimes: number[] = [];
const bareTimes: number[] = [];
for (let run = 0; run < RUNS; run++) {
  rgTimes.push(time(["rg", ...RG_ARGS]).ms);
  scanTimes.push(time(scanCommand).ms);
  bareTimes.push(time([BUN, "-e", "0"]).ms);
}
const scanMs = median(scanTimes);
const rgMs = median(rgTimes);
const ratio = scanMs / rgMs;
console.log(
  `tree: ${FILE_COUNT} files, ${(bytes / 1e6).toFixed(1)} MB, ${planted.size} planted ports (git repository); ` +
    `load average ${loadavg()[0]?.toFixed(2)} on ${navigator.hardwareConcurrency} cores`,
);
console.log(`| tool | median wall time (${RUNS} runs) | output |`);
console.log("| --- | ---: | --- |");
console.log(`| bun -e 0 (bare start) | ${median(bareTimes).toFixed(0)} ms | |`);
console.log(`| rg, same patterns and file types | ${rgMs.toFixed(0)} ms | ${rgLines} matching lines |`);
console.log(
  `| ports:scan-hardcoded --format json | ${scanMs.toFixed(0)} ms | ${report.findings.length} findings, ${report.filesScanned} files |`,
);
console.log(
  `ratio scanner/rg: ${ratio.toFixed(2)}x (target <= 2x); planted ports found: ${planted.size - missed.length}/${planted.size}`,
);
if (missed.length > 0) console.log(`missed: ${missed.slice(0, 10).join(", ")}`);
process.exitCode = missed.length === 0 && ratio <= 2 ? 0 : 1;
