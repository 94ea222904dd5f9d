/**
 * What the pre-commit hook adds to a typical commit: 5 staged TypeScript files, registry untouched.
 * In one temporary repository with the hooks installed, commits rotate between a plain
 * `git commit` from a developer's shell, the same with node_modules/.bin on PATH (as inside an npm
 * script or some editors, where the hook launcher finds lefthook's Node wrapper first), and
 * `git -c core.hooksPath=/dev/null commit` (no hooks), so all see the same machine load.
 * Target: under 0.5 s added at the median.
 *
 *   bun bench/hooks.ts [--runs N] [--json]
 */

import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createToolkitRepo, developerEnv, TOOLKIT_ROOT } from "../tests/enforcement/toolkit-repo.ts";

const TARGET_ADDED_MS = 500;
const FILES = 5;

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { runs: { type: "string", default: "10" }, json: { type: "boolean" } },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error("bench/hooks: --runs must be a positive integer");
  process.exit(2);
}

type Stats = { median: number; mean: number; min: number; max: number };

function statsOf(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { median, mean, min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

const loadAverage = loadavg()[0] ?? 0;
const repo = createToolkitRepo({ hasHooks: true, prefix: "port-governance-bench-hooks-" });
try {
  const paths = Array.from({ length: FILES }, (_, index) => `src/feature-${index + 1}.ts`);
  repo.run(["mkdir", "-p", "src"]);

  function stageEdits(round: number): void {
    for (const [index, path] of paths.entries()) {
      repo.write(
        path,
        `/** Feature ${index + 1}. */\nexport function feature${index + 1}(input: number): number {\n` +
          `  return input * ${round + 2} + ${index};\n}\n`,
      );
    }
    const add = repo.git("add", "--", ...paths);
    if (add.exitCode !== 0) throw new Error(`git add failed:\n${add.output}`);
  }

  type Variant = "hooks" | "hooksNpmPath" | "bare";
  const npmPathEnv = developerEnv({
    PATH: `${join(TOOLKIT_ROOT, "node_modules", ".bin")}:${developerEnv().PATH}`,
  });
  const jobSeconds = new Map<string, number[]>();

  function timeCommit(variant: Variant, round: number): number {
    stageEdits(round);
    const hooksPath = variant === "bare" ? ["-c", "core.hooksPath=/dev/null"] : [];
    const command = ["git", ...hooksPath, "commit", "-m", `Round ${round}`];
    const started = performance.now();
    const result = variant === "hooksNpmPath" ? repo.run(command, { env: npmPathEnv }) : repo.run(command);
    const elapsed = performance.now() - started;
    if (result.exitCode !== 0) throw new Error(`commit ${round} (${variant}) failed:\n${result.output}`);
    // lefthook's summary: "✓ scan-hardcoded (0.24 seconds)", nested jobs indented.
    if (variant === "hooks") {
      for (const match of result.output.matchAll(/^\s*✓ ([\w-]+) \(([\d.]+) seconds\)$/gm)) {
        const [, job = "", seconds = "0"] = match;
        jobSeconds.set(job, [...(jobSeconds.get(job) ?? []), Number(seconds)]);
      }
    }
    return elapsed;
  }

  // One warm-up of each, not measured: the first bun and biome start pay for a cold disk cache.
  const variants: Variant[] = ["hooks", "hooksNpmPath", "bare"];
  let round = 0;
  for (const variant of variants) timeCommit(variant, round++);
  jobSeconds.clear();
  const samples: Record<Variant, number[]> = { hooks: [], hooksNpmPath: [], bare: [] };
  for (let index = 0; index < runs; index++) {
    for (const variant of variants) samples[variant].push(timeCommit(variant, round++));
  }
  const hooks = statsOf(samples.hooks);
  const hooksNpmPath = statsOf(samples.hooksNpmPath);
  const plain = statsOf(samples.bare);
  const addedMedian = hooks.median - plain.median;
  const jobsMedianMs = Object.fromEntries(
    [...jobSeconds].map(([job, seconds]) => [job, Math.round(statsOf(seconds).median * 1000)]),
  );
  const report = {
    runs,
    loadAverage,
    stagedFiles: FILES,
    withHooksMs: hooks,
    withHooksNpmPathMs: hooksNpmPath,
    bareCommitMs: plain,
    addedMedianMs: addedMedian,
    addedMedianNpmPathMs: hooksNpmPath.median - plain.median,
    jobsMedianMs,
    targetAddedMs: TARGET_ADDED_MS,
    isWithinTarget: addedMedian < TARGET_ADDED_MS,
  };
  if (values.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    const row = (name: string, stats: Stats) =>
      `| ${name} | ${stats.median.toFixed(0)} | ${stats.mean.toFixed(0)} | ${stats.min.toFixed(0)} | ${stats.max.toFixed(0)} |`;
    console.log(
      `Commit of ${FILES} staged TS files, registry untouched; ${runs} runs each, interleaved; ` +
        `${cpus().length} CPUs, load average ${report.loadAverage.toFixed(1)} at the start.\n`,
    );
    console.log("| commit | median ms | mean ms | min ms | max ms |");
    console.log("| --- | ---: | ---: | ---: | ---: |");
    console.log(row("`git commit`, hooks installed", hooks));
    console.log(row("same, node_modules/.bin on PATH", hooksNpmPath));
    console.log(row("`git commit`, no hooks", plain));
    const jobs = Object.entries(jobsMedianMs).map(([job, ms]) => `${job} ${ms} ms`);
    console.log(`\nJobs as lefthook times them (median, parallel): ${jobs.join(", ")}`);
    console.log(
      `Added by the hooks (median): ${addedMedian.toFixed(0)} ms ` +
        `(${report.addedMedianNpmPathMs.toFixed(0)} ms with node_modules/.bin on PATH); ` +
        `target < ${TARGET_ADDED_MS} ms: ${report.isWithinTarget ? "met" : "MISSED"}`,
    );
  }
  process.exitCode = report.isWithinTarget ? 0 : 1;
} finally {
  repo.remove();
}
