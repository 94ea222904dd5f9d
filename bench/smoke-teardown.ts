/**
 * What `init: true` buys at teardown. The generated compose file sets it because Bun or Node as
 * PID 1 ignores SIGTERM unless the app installs a handler, and `docker stop` then waits its 10 s
 * before SIGKILL. This starts `telegram-mtproto` from the generated compose file in four ways and
 * times `stop`:
 *
 *   stand-in, init: true    the generated file as is (the stand-in handles SIGTERM, and tini forwards it)
 *   stand-in, init: false   the baseline for an app that handles SIGTERM itself
 *   bare app, init: true    an entrypoint of one Bun.serve line: no signal handler at all
 *   bare app, init: false   the baseline the generated file avoids: 10 s per container
 *
 * Cases rotate so all see the same machine load. Needs a Docker engine and compose.
 *
 *   bun bench/smoke-teardown.ts [--runs N] [--offline-base] [--json]
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { $ } from "zx";
import { composeArgv, createProjectName, overrideEnvText } from "../lib/docker.ts";
import { composePathOf, OUTPUT_PATHS } from "../lib/render.ts";
import { buildOfflineBase, detectCompose, detectEngine, PrerequisiteError } from "../tasks/smoke-mtproto.ts";

const ROOT = join(import.meta.dir, "..");
const SERVICE = "telegram-mtproto";
const PORT_NAME = "TELEGRAM_MTPROTO_PORT";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    runs: { type: "string", default: "1" },
    "offline-base": { type: "boolean" },
    json: { type: "boolean" },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error("bench/smoke-teardown: --runs must be a positive integer");
  process.exit(2);
}

type Case = { name: string; init: boolean; bare: boolean };
const CASES: Case[] = [
  { name: "stand-in, init: true", init: true, bare: false },
  { name: "stand-in, init: false", init: false, bare: false },
  { name: "bare app, init: true", init: true, bare: true },
  { name: "bare app, init: false", init: false, bare: true },
];
const BARE_APP = "Bun.serve({ port: Number(process.env.PORT), fetch: () => new Response('ok') })";

function renderOverride(benchCase: Case): string {
  const lines = ["services:", `  ${SERVICE}:`, `    init: ${benchCase.init}`];
  if (benchCase.bare) lines.push(`    entrypoint: ${JSON.stringify(["bun", "-e", BARE_APP])}`);
  return `${lines.join("\n")}\n`;
}

const sh = $({
  quiet: true,
  nothrow: true,
  cwd: ROOT,
  env: { ...process.env, COMPOSE_DOCKER_CLI_BUILD: "0" },
});

async function waitAnswering(url: string): Promise<void> {
  const started = performance.now();
  while (performance.now() - started < 30_000) {
    const status = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await Bun.sleep(100);
  }
  throw new Error(`${url} did not answer`);
}

const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

async function main() {
  const [engine, compose] = await Promise.all([detectEngine(sh), detectCompose(sh)]);
  const project = createProjectName(process.pid, randomBytes(4).toString("hex")).replace("smoke", "bench");
  const workDir = await mkdtemp(join(tmpdir(), `${project}-`));
  const composeFile = join(ROOT, composePathOf("telegram"));
  const envFile = join(workDir, "run.env");
  const port = 20000 + Math.floor(Math.random() * 10000);
  await writeFile(
    envFile,
    overrideEnvText(
      await readFile(join(ROOT, OUTPUT_PATHS.env), "utf8"),
      { [PORT_NAME]: String(port) },
      "bench",
    ),
  );
  const argvFor = (files: string[]) =>
    composeArgv(compose.kind, { project, files, envFile, projectDirectory: dirname(composeFile) });
  const base = argvFor([composeFile]);
  const timings = new Map<string, number[]>(CASES.map((benchCase) => [benchCase.name, []]));
  try {
    const buildArgs: string[] = [];
    if (values["offline-base"]) {
      const built = await buildOfflineBase(sh, ROOT, workDir, (line) => console.error(`bench: ${line}`));
      buildArgs.push("--build-arg", `BASE_IMAGE=${built.tag}`);
    }
    const built = await sh`${base} build ${buildArgs} ${SERVICE}`;
    if (built.exitCode !== 0) throw new Error(`build failed: ${built.stderr.trim().split("\n").at(-1)}`);
    for (let run = 0; run < runs; run++) {
      for (const benchCase of CASES) {
        const override = join(workDir, "override.yml");
        await writeFile(override, renderOverride(benchCase));
        const files = argvFor([composeFile, override]);
        const up = await sh`${files} up -d --no-build --no-deps --force-recreate ${SERVICE}`;
        if (up.exitCode !== 0) throw new Error(`up failed: ${up.stderr.trim().split("\n").at(-1)}`);
        await waitAnswering(`http://127.0.0.1:${port}/health`);
        const started = performance.now();
        const stopped = await sh`${files} stop ${SERVICE}`;
        if (stopped.exitCode !== 0) throw new Error(`stop failed: ${stopped.stderr.trim()}`);
        timings.get(benchCase.name)?.push(Math.round(performance.now() - started));
        console.error(`bench: ${benchCase.name}: ${timings.get(benchCase.name)?.at(-1)} ms`);
      }
    }
  } finally {
    await sh`${base} down -v --rmi local --remove-orphans`;
    await rm(workDir, { recursive: true, force: true });
  }
  const results = CASES.map((benchCase) => ({
    case: benchCase.name,
    medianMs: median(timings.get(benchCase.name) ?? []),
    runs: timings.get(benchCase.name) ?? [],
  }));
  if (values.json) {
    console.log(JSON.stringify({ engine, compose, runs, results }, null, 2));
    return;
  }
  console.log(
    `docker stop of ${SERVICE} (median of ${runs}; engine ${engine}, compose ${compose.version} ${compose.kind})`,
  );
  for (const result of results)
    console.log(`  ${result.case.padEnd(24)} ${(result.medianMs / 1000).toFixed(1).padStart(5)} s`);
}

main().catch((error) => {
  console.error(error instanceof PrerequisiteError ? `bench/smoke-teardown: ${error.message}` : error);
  process.exitCode = 2;
});
