/**
 * `npm run ports:smoke`: proves the Telegram stack's connectivity against a real Docker engine.
 *
 * It builds the MTProto and Gateway API images, starts them from the generated compose file under
 * a project name of its own (published ports chosen free for this run), and checks that the
 * Gateway API reaches MTProto by its DNS name, that `localhost` at the MTProto port inside the
 * Gateway API is refused (the old failure), that the host reaches both through the published
 * ports, that the session survives a container recreate, and (with --native) the rollback to a
 * native MTProto. `down -v` always runs: on success, on failure and on Ctrl-C.
 */
import { type ChildProcess, spawn as spawnChild } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { $, type ProcessOutput, type Shell } from "zx";
import { describeFailure, EXIT, parseFlags, TASK_FLAGS } from "../lib/cli.ts";
import { createColors, shouldUseColor } from "../lib/colors.ts";
import { containerPortOf, deriveEnvNames, endpointOf, findService } from "../lib/derive.ts";
import {
  COMPOSE_HINT,
  type ComposeTool,
  composeArgv,
  createProjectName,
  ENGINE_HINT,
  exitCodeOf,
  findBaseImageDefault,
  formatChecks,
  formatPhases,
  formatSeconds,
  nativeVariant,
  OFFLINE_BASE_HINT,
  offlineBaseChanges,
  offlineBaseTag,
  overrideEnvText,
  parseComposeVersion,
  parseLddOutput,
  planOfflineRootfs,
  type SmokeCheck,
  type SmokePhase,
} from "../lib/docker.ts";
import { ConfigError, UsageError } from "../lib/errors.ts";
import { checkHealth, parseEnvText, planHealthTargets } from "../lib/health.ts";
import { DEFAULT_REGISTRY_PATH } from "../lib/load.ts";
import { composePathOf, OUTPUT_PATHS, renderAll } from "../lib/render.ts";
import type { Service } from "../lib/schema.ts";
import { validateRegistryFile } from "../lib/validate.ts";

export const MTPROTO = "telegram-mtproto";
export const GATEWAY = "telegram-gateway-api";
const DEFAULT_TIMEOUT_S = 60;
const PROBE_SCRIPT = join(import.meta.dir, "..", "scripts", "smoke", "probe.ts");

export const HELP = `Usage: bun tasks/smoke-mtproto.ts [options]

Builds and starts ${MTPROTO} and ${GATEWAY} from the generated compose file
(tools/compose/docker-compose.telegram.yml) against a real Docker engine, runs the connectivity
checks, prints a pass/fail table with timings, and always tears down with \`down -v\`.

Options:
  --offline-base     build the base image locally from the Bun binary in node_modules and its glibc
                     libraries (docker import) instead of pulling the Dockerfile's default
  --native           also run the rollback check: MTProto native on the host, the Gateway API
                     container reaching it through host.docker.internal (extra_hosts: host-gateway)
  --timeout SECONDS  how long a container may take to turn healthy (default: ${DEFAULT_TIMEOUT_S})
  --json             print one JSON document (SmokeReport) instead of the tables
  --registry PATH    registry file, relative to the root (default: ${DEFAULT_REGISTRY_PATH})
  --root DIR         repository root (default: current directory)
  -h, --help         show this help

Needs a Docker engine and compose (v2 plugin or docker-compose v1.29). Progress goes to stderr.
Exit codes: 0 every check passed, 1 a check failed, 2 missing prerequisites or usage error,
130 interrupted (after teardown).`;

/** Docker, compose or the generated files are missing: exit 2 with a hint. */
export class PrerequisiteError extends Error {
  override name = "PrerequisiteError";
}

class InterruptedError extends Error {
  override name = "InterruptedError";
}

export type SmokeOptions = {
  root: string;
  registryPath?: string;
  offlineBase?: boolean;
  native?: boolean;
  timeoutSeconds?: number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** Aborting stops the current step; teardown still runs. */
  signal?: AbortSignal;
};

/** The `--json` document. */
export type SmokeReport = {
  project: string;
  engine: string;
  compose: ComposeTool;
  baseImage: string;
  ports: Record<string, number>;
  isPassed: boolean;
  isInterrupted: boolean;
  /** False when something labelled with the project survived teardown (the run then fails). */
  isTornDown: boolean;
  checks: SmokeCheck[];
  phases: SmokePhase[];
  totalMs: number;
};

const since = (started: number) => Math.round(performance.now() - started);
const lastLine = (text: string) => text.trim().split("\n").at(-1)?.trim() ?? "";

function errorText(error: unknown): string {
  if (error && typeof error === "object" && "stderr" in error) {
    const output = error as ProcessOutput;
    return lastLine(output.stderr || output.stdout || output.message);
  }
  return error instanceof Error ? error.message : String(error);
}

async function findFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(0, "0.0.0.0", () => done());
  });
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (typeof address !== "object" || address === null) throw new Error("no free port");
  return address.port;
}

// ---------------------------------------------------------------------------------------------
// Prerequisites

export async function detectEngine(sh: Shell): Promise<string> {
  const result = await sh`docker version --format ${"{{.Server.Version}}"}`.timeout("20s");
  const version = result.stdout.trim();
  if (result.exitCode !== 0 || version === "") {
    const reason =
      result.exitCode === 127
        ? "the docker command is not installed"
        : lastLine(result.stderr) || `docker exited with ${result.exitCode}`;
    throw new PrerequisiteError(`no Docker engine is reachable (${reason})\n${ENGINE_HINT}`);
  }
  return version;
}

export async function detectCompose(sh: Shell): Promise<ComposeTool> {
  const v2 = await sh`docker compose version --short`.timeout("20s");
  const v2Version = v2.exitCode === 0 ? parseComposeVersion(v2.stdout) : undefined;
  if (v2Version) return { kind: "v2", version: v2Version };
  const v1 = await sh`docker-compose version --short`.timeout("20s");
  const v1Version = v1.exitCode === 0 ? parseComposeVersion(v1.stdout) : undefined;
  if (v1Version) return { kind: "v1", version: v1Version };
  throw new PrerequisiteError(
    `neither \`docker compose\` (v2) nor \`docker-compose\` (v1) was found\n${COMPOSE_HINT}`,
  );
}

async function loadStack(root: string, registryPath: string | undefined) {
  const validation = await validateRegistryFile(resolve(root, registryPath ?? DEFAULT_REGISTRY_PATH), root);
  if (!validation.registry) {
    throw new ConfigError(`${validation.file} is invalid; run npm run ports:validate`);
  }
  const registry = validation.registry;
  const mtproto = findService(registry, MTPROTO);
  const gateway = findService(registry, GATEWAY);
  if (!mtproto || !gateway)
    throw new ConfigError(`${validation.file} must register ${MTPROTO} and ${GATEWAY}`);
  if (!mtproto.build || !gateway.build || mtproto.container !== true || gateway.container !== true) {
    throw new ConfigError(`${MTPROTO} and ${GATEWAY} must be containers with a build section`);
  }
  const composeFile = join(root, composePathOf(mtproto.stack));
  const envShared = join(root, OUTPUT_PATHS.env);
  // The run uses the generated files as they are on disk, so they must match the registry.
  const outputs = renderAll(registry, { registryFile: validation.file });
  for (const path of [composePathOf(mtproto.stack), OUTPUT_PATHS.env]) {
    const onDisk = await readFile(join(root, path), "utf8").catch(() => undefined);
    if (onDisk === undefined) throw new PrerequisiteError(`${path} is missing; run npm run ports:sync first`);
    if (onDisk !== outputs.find((output) => output.path === path)?.content) {
      throw new PrerequisiteError(`${path} is out of date with the registry; run npm run ports:sync first`);
    }
  }
  return { registry, mtproto, gateway, composeFile, envShared };
}

// ---------------------------------------------------------------------------------------------
// Base image

async function imageExists(sh: Shell, image: string): Promise<boolean> {
  return (await sh`docker image inspect --format ${"{{.Id}}"} ${image}`).exitCode === 0;
}

async function isElf(path: string): Promise<boolean> {
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return false;
  try {
    const { buffer } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    return buffer.toString("latin1") === "\x7fELF";
  } finally {
    await handle.close();
  }
}

/** The Bun binary in node_modules (the platform package, or the one bun's postinstall linked). */
export async function findBunBinary(root: string): Promise<string> {
  const candidates: string[] = [];
  const ovenDir = join(root, "node_modules", "@oven");
  const packages = (await readdir(ovenDir).catch(() => [] as string[]))
    .filter((name) => name.startsWith("bun-linux-x64") && !name.includes("musl"))
    .sort();
  for (const name of packages) candidates.push(join(ovenDir, name, "bin", "bun"));
  candidates.push(
    join(root, "node_modules", "bun", "bin", "bun.exe"),
    join(root, "node_modules", "bun", "bin", "bun"),
  );
  for (const candidate of candidates) if (await isElf(candidate)) return candidate;
  throw new PrerequisiteError(
    "--offline-base: no linux-x64 Bun binary in node_modules (@oven/bun-linux-x64*/bin/bun or bun/bin/bun.exe); run npm ci",
  );
}

export async function buildOfflineBase(
  sh: Shell,
  root: string,
  workDir: string,
  log: (line: string) => void,
) {
  const bunPath = await findBunBinary(root);
  const bunVersion = (await sh`${bunPath} --version`).stdout.trim();
  if (!/^\d+\.\d+\.\d+/.test(bunVersion))
    throw new PrerequisiteError(`--offline-base: ${bunPath} --version failed`);
  const tag = offlineBaseTag(bunVersion);
  if (await imageExists(sh, tag)) return { tag, note: `${tag} (reused)` };
  log(`building the offline base image ${tag} from ${bunPath.slice(root.length + 1)}`);
  const ldd = await sh`ldd ${bunPath}`;
  const { libraries, missing } = parseLddOutput(ldd.stdout);
  if (ldd.exitCode !== 0 || libraries.length === 0 || missing.length > 0) {
    throw new PrerequisiteError(
      `--offline-base: cannot list the libraries of ${bunPath} (${lastLine(ldd.stderr) || missing.join(", ")})`,
    );
  }
  const stage = join(workDir, "rootfs");
  for (const entry of planOfflineRootfs(bunPath, libraries)) {
    const target = join(stage, entry.path);
    if (entry.kind === "dir") {
      await mkdir(target, { recursive: true, mode: entry.mode });
    } else if (entry.kind === "symlink") {
      await symlink(entry.target, target);
    } else if (entry.kind === "text") {
      await writeFile(target, entry.content, { mode: entry.mode });
    } else {
      await copyFile(entry.source, target);
      await chmod(target, entry.mode);
    }
  }
  await chmod(join(stage, "tmp"), 0o1777);
  const changes = offlineBaseChanges(bunVersion).flatMap((change) => ["--change", change]);
  const imported =
    await sh`tar -C ${stage} --owner=0 --group=0 --numeric-owner -cf - . | docker import ${changes} - ${tag}`.timeout(
      "300s",
    );
  await rm(stage, { recursive: true, force: true });
  if (imported.exitCode !== 0) throw new Error(`docker import failed: ${errorText(imported)}`);
  return { tag, note: `${tag} (built)` };
}

async function ensureDefaultBase(sh: Shell, root: string, services: Service[], log: (line: string) => void) {
  const images = new Set<string>();
  for (const service of services) {
    const build = service.build;
    if (!build) continue;
    const dockerfile = await readFile(join(root, build.context, build.dockerfile ?? "Dockerfile"), "utf8");
    const base = findBaseImageDefault(dockerfile);
    if (base) images.add(base);
  }
  for (const image of images) {
    if (await imageExists(sh, image)) continue;
    log(`pulling ${image}`);
    const pulled = await sh`docker pull ${image}`.timeout("300s");
    if (pulled.exitCode !== 0) {
      throw new PrerequisiteError(
        `base image ${image} is not present and cannot be pulled (${errorText(pulled)})\n${OFFLINE_BASE_HINT}`,
      );
    }
  }
  return [...images].join(", ");
}

// ---------------------------------------------------------------------------------------------
// Containers

async function containerOf(sh: Shell, project: string, service: string): Promise<string> {
  const result =
    await sh`docker ps -aq --filter ${`label=com.docker.compose.project=${project}`} --filter ${`label=com.docker.compose.service=${service}`}`;
  const ids = result.stdout.trim().split("\n").filter(Boolean);
  if (ids.length !== 1) throw new Error(`expected one ${service} container, found ${ids.length}`);
  return ids[0] as string;
}

async function waitHealthy(sh: Shell, id: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  const started = performance.now();
  let last = "";
  while (performance.now() - started < timeoutMs) {
    if (signal?.aborted) throw new InterruptedError("interrupted");
    const inspected =
      await sh`docker inspect --format ${"{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}"} ${id}`;
    last = inspected.stdout.trim();
    if (last.endsWith(" healthy")) return since(started);
    if (last.startsWith("exited") || last.startsWith("dead") || last.endsWith("unhealthy")) break;
    await Bun.sleep(200);
  }
  const logs = await sh`docker logs --tail 5 ${id}`;
  const tail = `${logs.stdout}${logs.stderr}`.trim().split("\n").at(-1) ?? "";
  throw new Error(
    `container ${id.slice(0, 12)} not healthy (${last || "unknown"})${tail ? `: ${tail}` : ""}`,
  );
}

type Probe = { url: string; status?: number; body?: unknown; error?: string };

async function probeFromContainer(sh: Shell, id: string, url: string, source: string): Promise<Probe> {
  const result =
    await sh`docker exec -e ${`PROBE_URL=${url}`} -e PROBE_TIMEOUT_MS=3000 ${id} bun -e ${source}`.timeout(
      "20s",
    );
  try {
    return JSON.parse(result.stdout.trim()) as Probe;
  } catch {
    throw new Error(`probe in ${id.slice(0, 12)} failed: ${errorText(result)}`);
  }
}

/** Polls `url` from the host until it answers 200: quicker than waiting for Docker's next healthcheck. */
async function waitAnswering(url: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (signal?.aborted) throw new InterruptedError("interrupted");
    const answer = await fetchJson(url).catch(() => undefined);
    if (answer?.status === 200) return since(started);
    await Bun.sleep(100);
  }
  throw new Error(`${url} did not answer 200 within ${formatSeconds(timeoutMs)}`);
}

async function fetchJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: response.status, body };
}

async function startNative(root: string, service: Service, port: number, workDir: string, instance: string) {
  const build = service.build as NonNullable<Service["build"]>;
  const entry = join(root, build.context, dirname(build.dockerfile ?? "Dockerfile"), "server.ts");
  const child = spawnChild(process.execPath, [entry], {
    env: {
      ...process.env,
      PORT: String(port),
      SESSIONS_DIR: join(workDir, "native-sessions"),
      INSTANCE: instance,
    },
    stdio: "ignore",
  });
  const started = performance.now();
  while (performance.now() - started < 10_000) {
    const answer = await fetchJson(`http://127.0.0.1:${port}/health`).catch(() => undefined);
    if (answer?.status === 200) return child;
    if (child.exitCode !== null) break;
    await Bun.sleep(100);
  }
  child.kill("SIGTERM");
  throw new Error(`native ${service.name} did not answer on port ${port}`);
}

// ---------------------------------------------------------------------------------------------
// The run

export async function run(options: SmokeOptions): Promise<SmokeReport> {
  const root = resolve(options.root);
  const log = options.log ?? (() => {});
  const signal = options.signal;
  const timeoutMs = (options.timeoutSeconds ?? DEFAULT_TIMEOUT_S) * 1000;
  const runStarted = performance.now();
  const phases: SmokePhase[] = [];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    COMPOSE_DOCKER_CLI_BUILD: "0",
    COMPOSE_INTERACTIVE_NO_CLI: "1",
  };
  const quiet = { quiet: true, nothrow: true, cwd: root, env, verbose: false };
  const sh = $(quiet);

  let phaseStarted = performance.now();
  // Both at once; the engine's problem is reported first.
  const [engineResult, composeResult] = await Promise.allSettled([detectEngine(sh), detectCompose(sh)]);
  if (engineResult.status === "rejected") throw engineResult.reason;
  if (composeResult.status === "rejected") throw composeResult.reason;
  const engine = engineResult.value;
  const compose = composeResult.value;
  const { registry, mtproto, gateway, composeFile, envShared } = await loadStack(root, options.registryPath);
  phases.push({
    name: "prerequisites",
    ms: since(phaseStarted),
    note: `engine ${engine}, compose ${compose.version} (${compose.kind})`,
  });

  const project = createProjectName(process.pid, randomBytes(4).toString("hex"));
  const workDir = await mkdtemp(join(tmpdir(), `${project}-`));
  const mtprotoPortName = deriveEnvNames(mtproto).port;
  const gatewayPortName = deriveEnvNames(gateway).port;
  const ports = { [mtprotoPortName]: await findFreePort(), [gatewayPortName]: await findFreePort() };
  for (const name of Object.keys(ports)) delete env[name];
  const runEnvFile = join(workDir, "run.env");
  await writeFile(
    runEnvFile,
    overrideEnvText(
      await readFile(envShared, "utf8"),
      Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)])),
      `${OUTPUT_PATHS.env} with the published ports of smoke run ${project}`,
    ),
  );
  const projectDirectory = dirname(composeFile);
  const composeWith = (files: string[]) =>
    composeArgv(compose.kind, { project, files, envFile: runEnvFile, projectDirectory });
  const base = composeWith([composeFile]);
  const shRun = $({ ...quiet, signal });
  const services = [mtproto.name, gateway.name];
  const checks: SmokeCheck[] = [];
  let nativeChild: ChildProcess | undefined;
  let baseImage = "";
  let isInterrupted = false;
  let hasProject = false;
  let isTornDown = true;

  const guard = () => {
    if (signal?.aborted) throw new InterruptedError("interrupted");
  };
  const check = async (id: number, name: string, body: () => Promise<string>) => {
    const started = performance.now();
    try {
      guard();
      const detail = await body();
      checks.push({ id, name, status: "pass", ms: since(started), detail });
    } catch (error) {
      if (error instanceof InterruptedError || signal?.aborted) throw new InterruptedError("interrupted");
      checks.push({ id, name, status: "fail", ms: since(started), detail: errorText(error) });
    }
    log(`check ${id} ${checks.at(-1)?.status}: ${name}`);
  };

  const names = {
    up: `${mtproto.name} + ${gateway.name} build, start, turn healthy`,
    dns: `${gateway.name} reaches ${endpointOf(mtproto, "container").host}:${containerPortOf(mtproto)} by DNS name`,
    localhost: `localhost:${containerPortOf(mtproto)} inside ${gateway.name} is refused`,
    host: "host reaches both through the published ports",
    session: "session survives a container recreate (named volume)",
    native: "--native rollback: gateway reaches MTProto on the host",
  };

  try {
    guard();
    phaseStarted = performance.now();
    if (options.offlineBase) {
      const built = await buildOfflineBase(shRun, root, workDir, log);
      baseImage = built.tag;
      phases.push({ name: "base image", ms: since(phaseStarted), note: built.note });
    } else {
      baseImage = await ensureDefaultBase(shRun, root, [mtproto, gateway], log);
      phases.push({ name: "base image", ms: since(phaseStarted), note: `${baseImage} (present)` });
    }
    guard();

    // Check 1: build, start, healthy.
    let isUp = false;
    let mtprotoId = "";
    let gatewayId = "";
    await check(1, names.up, async () => {
      log(`building images (project ${project})`);
      hasProject = true;
      phaseStarted = performance.now();
      const buildArgs = options.offlineBase ? ["--build-arg", `BASE_IMAGE=${baseImage}`] : [];
      const built = await shRun`${base} build ${buildArgs} ${services}`.timeout("600s");
      phases.push({ name: "build", ms: since(phaseStarted) });
      if (built.exitCode !== 0) throw new Error(`build failed: ${errorText(built)}`);
      guard();
      log("starting the stack");
      phaseStarted = performance.now();
      const up = await shRun`${base} up -d --no-build ${gateway.name}`.timeout(timeoutMs + 30_000);
      if (up.exitCode !== 0) throw new Error(`up failed: ${errorText(up)}`);
      mtprotoId = await containerOf(sh, project, mtproto.name);
      gatewayId = await containerOf(sh, project, gateway.name);
      await waitHealthy(sh, mtprotoId, timeoutMs, signal);
      const mtprotoMs = since(phaseStarted);
      await waitHealthy(sh, gatewayId, timeoutMs, signal);
      phases.push({ name: "start + healthy", ms: since(phaseStarted) });
      isUp = true;
      return `on ${baseImage}; healthy ${formatSeconds(mtprotoMs)} (MTProto) and ${formatSeconds(since(phaseStarted))} (gateway) after up`;
    });

    phaseStarted = performance.now();
    const probeSource = await readFile(PROBE_SCRIPT, "utf8");
    const skip = (id: number, name: string, detail: string) => {
      checks.push({ id, name, status: "skip", ms: 0, detail });
      log(`check ${id} skip: ${name}`);
    };
    if (!isUp) {
      for (const [id, name] of [
        [2, names.dns],
        [3, names.localhost],
        [4, names.host],
        [5, names.session],
        [6, names.native],
      ] as const) {
        skip(id, name, "the stack did not come up");
      }
    } else {
      const mtprotoHealth = mtproto.healthcheck?.endpoint ?? "/health";
      const expected = mtproto.healthcheck?.expected ?? 200;
      const serviceUrl = endpointOf(mtproto, "container").url;
      const gatewayHost = `http://127.0.0.1:${ports[gatewayPortName]}`;
      const mtprotoHost = `http://127.0.0.1:${ports[mtprotoPortName]}`;

      await check(2, names.dns, async () => {
        const probe = await probeFromContainer(sh, gatewayId, `${serviceUrl}${mtprotoHealth}`, probeSource);
        if (probe.status !== expected)
          throw new Error(`${probe.url} → ${probe.error ?? `HTTP ${probe.status}`}`);
        const viaGateway = await fetchJson(`${gatewayHost}/mtproto/health`);
        if (viaGateway.status !== 200 || viaGateway.body.upstream !== `${serviceUrl}/health`) {
          throw new Error(
            `${gateway.name} /mtproto/health → HTTP ${viaGateway.status} ${JSON.stringify(viaGateway.body)}`,
          );
        }
        return `${probe.url} → HTTP ${probe.status}; the app's MTPROTO_SERVICE_URL=${serviceUrl} answers too`;
      });

      await check(3, names.localhost, async () => {
        const url = `http://localhost:${containerPortOf(mtproto)}${mtprotoHealth}`;
        const probe = await probeFromContainer(sh, gatewayId, url, probeSource);
        if (probe.error !== "ECONNREFUSED") {
          throw new Error(`${url} → ${probe.error ?? `HTTP ${probe.status}`}; expected ECONNREFUSED`);
        }
        return `${url} → ECONNREFUSED, the failure the DNS name fixes`;
      });

      await check(4, names.host, async () => {
        const targets = planHealthTargets(registry, {
          stack: mtproto.stack,
          services,
          env: parseEnvText(await readFile(runEnvFile, "utf8")),
        });
        const results = await checkHealth(targets, { timeoutMs: 3000 });
        const summary = results.map((result) => `${result.target} ${result.detail}`).join(", ");
        if (results.some((result) => result.status !== "healthy")) throw new Error(summary);
        return summary;
      });

      await check(5, names.session, async () => {
        const before = await fetchJson(`${mtprotoHost}/health`);
        const token = randomBytes(8).toString("hex");
        const put = await fetch(`${mtprotoHost}/sessions/smoke`, {
          method: "PUT",
          body: token,
          signal: AbortSignal.timeout(5000),
        });
        if (before.status !== 200 || put.status !== 204)
          throw new Error(`could not write a session (HTTP ${put.status})`);
        const recreated =
          await shRun`${base} up -d --no-build --no-deps --force-recreate ${mtproto.name}`.timeout(timeoutMs);
        if (recreated.exitCode !== 0) throw new Error(`recreate failed: ${errorText(recreated)}`);
        const newId = await containerOf(sh, project, mtproto.name);
        if (newId === mtprotoId) throw new Error("the container was not recreated");
        await waitAnswering(`${mtprotoHost}${mtprotoHealth}`, timeoutMs, signal);
        const after = await fetchJson(`${mtprotoHost}/health`);
        const stored = await fetch(`${mtprotoHost}/sessions/smoke`, {
          signal: AbortSignal.timeout(5000),
        }).then((r) => r.text());
        if (after.body.session !== before.body.session || stored !== token) {
          throw new Error(`session lost: ${String(before.body.session)} → ${String(after.body.session)}`);
        }
        mtprotoId = newId;
        return `container ${String(before.body.instance).slice(0, 12)} → ${newId.slice(0, 12)}, session ${String(after.body.session).slice(0, 8)}… kept`;
      });

      if (!options.native) {
        skip(6, names.native, "pass --native to run the rollback check");
      } else {
        await check(6, names.native, async () => {
          const nativePort = await findFreePort();
          const instance = `native-${project}`;
          nativeChild = await startNative(root, mtproto, nativePort, workDir, instance);
          const variant = nativeVariant(registry, mtproto.name, nativePort);
          const rendered = renderAll(variant, { registryFile: DEFAULT_REGISTRY_PATH }).find(
            (output) => output.path === composePathOf(mtproto.stack),
          );
          if (!rendered) throw new Error("the rollback variant renders no compose file");
          const variantFile = join(workDir, "docker-compose.native.yml");
          await writeFile(variantFile, rendered.content);
          const nativeUrl = endpointOf(findService(variant, mtproto.name) as Service, "container").url;
          const up =
            await shRun`${composeWith([variantFile])} up -d --no-build --remove-orphans ${gateway.name}`.timeout(
              timeoutMs,
            );
          if (up.exitCode !== 0) throw new Error(`up (rollback) failed: ${errorText(up)}`);
          const newGateway = await containerOf(sh, project, gateway.name);
          await waitAnswering(
            `${gatewayHost}${gateway.healthcheck?.endpoint ?? "/health"}`,
            timeoutMs,
            signal,
          );
          const probe = await probeFromContainer(sh, newGateway, `${nativeUrl}${mtprotoHealth}`, probeSource);
          const body = probe.body as { instance?: string } | undefined;
          if (probe.status !== expected || body?.instance !== instance) {
            throw new Error(
              `${probe.url} → ${probe.error ?? `HTTP ${probe.status} from ${body?.instance ?? "?"}`}`,
            );
          }
          const viaGateway = await fetchJson(`${gatewayHost}/mtproto/health`);
          const upstreamBody = viaGateway.body.body as { instance?: string } | undefined;
          if (viaGateway.status !== 200 || upstreamBody?.instance !== instance) {
            throw new Error(
              `${gateway.name} /mtproto/health → HTTP ${viaGateway.status} ${JSON.stringify(viaGateway.body)}`,
            );
          }
          return `MTPROTO_SERVICE_URL=${nativeUrl} → the native process (pid ${nativeChild.pid})`;
        });
      }
    }
    phases.push({ name: "checks", ms: since(phaseStarted) });
  } catch (error) {
    // An aborted command fails in its own way; after Ctrl-C every failure counts as the interruption.
    if (!(error instanceof InterruptedError) && !signal?.aborted) throw error;
    isInterrupted = true;
  } finally {
    phaseStarted = performance.now();
    if (hasProject) {
      log(`tearing down ${project}`);
      const result = await teardown($(quiet), base, project, nativeChild, workDir);
      isTornDown = result.isClean;
      phases.push({ name: "teardown", ms: since(phaseStarted), note: result.note });
    } else {
      await rm(workDir, { recursive: true, force: true });
    }
  }
  const totalMs = since(runStarted);
  phases.push({ name: "total", ms: totalMs });
  return {
    project,
    engine,
    compose,
    baseImage,
    ports,
    isPassed: !isInterrupted && isTornDown && exitCodeOf(checks) === 0,
    isInterrupted,
    isTornDown,
    checks,
    phases,
    totalMs,
  };
}

/**
 * `down -v` (and the images it built), then removes anything the project label still finds, then
 * looks again: the run only counts as torn down when nothing with its label is left.
 */
async function teardown(
  sh: Shell,
  base: string[],
  project: string,
  nativeChild: ChildProcess | undefined,
  workDir: string,
): Promise<{ isClean: boolean; note: string }> {
  nativeChild?.kill("SIGTERM");
  const down = await sh`${base} down -v --rmi local --remove-orphans --timeout 5`.timeout("120s");
  const label = `label=com.docker.compose.project=${project}`;
  const list = async (kind: "container" | "volume" | "network") => {
    const listed = await sh`docker ${kind} ls -q ${kind === "container" ? ["--all"] : []} --filter ${label}`;
    return listed.exitCode === 0 ? listed.stdout.trim().split("\n").filter(Boolean) : ["(unknown)"];
  };
  const removers = {
    container: (ids: string[]) => sh`docker rm -f -v ${ids}`,
    volume: (ids: string[]) => sh`docker volume rm -f ${ids}`,
    network: (ids: string[]) => sh`docker network rm ${ids}`,
  };
  const removed: string[] = [];
  const left: string[] = [];
  for (const kind of ["container", "volume", "network"] as const) {
    const ids = await list(kind);
    if (ids.length === 0) continue;
    await removers[kind](ids);
    removed.push(`${ids.length} ${kind}(s)`);
    const remaining = await list(kind);
    if (remaining.length > 0) left.push(`${remaining.length} ${kind}(s)`);
  }
  await rm(workDir, { recursive: true, force: true });
  const parts = [down.exitCode === 0 ? "down -v" : `down -v failed: ${errorText(down)}`];
  if (removed.length > 0) parts.push(`removed leftover ${removed.join(", ")}`);
  if (left.length > 0) parts.push(`LEFT BEHIND ${left.join(", ")} labelled ${project}`);
  return { isClean: left.length === 0, note: parts.join("; ") };
}

// ---------------------------------------------------------------------------------------------
// CLI

export function formatSmokeReport(report: SmokeReport, isColor: boolean): string {
  const colors = createColors(isColor);
  const paint = (status: SmokeCheck["status"], text: string) =>
    colors.paint(status === "pass" ? "green" : status === "fail" ? "red" : "yellow", text);
  const count = (status: SmokeCheck["status"]) =>
    report.checks.filter((check) => check.status === status).length;
  const teardown = report.isTornDown ? "torn down" : "NOT fully torn down (see the teardown note)";
  const summary = report.isInterrupted
    ? `interrupted after ${formatSeconds(report.totalMs)}; ${teardown}`
    : `${count("pass")} passed, ${count("fail")} failed, ${count("skip")} skipped in ${formatSeconds(report.totalMs)}${report.isTornDown ? "" : `; ${teardown}`}`;
  return [
    `MTProto smoke test: project ${report.project}, engine ${report.engine}, compose ${report.compose.version} (${report.compose.kind})`,
    "",
    formatChecks(report.checks, paint),
    "",
    formatPhases(report.phases),
    "",
    report.isPassed ? colors.paint("green", summary) : colors.paint("red", summary),
    "",
  ].join("\n");
}

function parseTimeoutSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= 1 && seconds <= 3600))
    throw new UsageError(`--timeout must be whole seconds between 1 and 3600, got "${value}"`);
  return seconds;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    "offline-base": { type: "boolean" },
    native: { type: "boolean" },
    timeout: { type: "string" },
    ...TASK_FLAGS,
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) process.stderr.write("smoke-mtproto: interrupted; tearing down (down -v)…\n");
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const report = await run({
    root: values.root ?? process.cwd(),
    registryPath: values.registry,
    offlineBase: values["offline-base"],
    native: values.native,
    timeoutSeconds: parseTimeoutSeconds(values.timeout),
    log: (line) => process.stderr.write(`smoke: ${line}\n`),
    signal: controller.signal,
  });
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(formatSmokeReport(report, shouldUseColor(process.stdout, process.env)));
  if (report.isInterrupted) return EXIT.interrupted;
  return report.isPassed ? EXIT.ok : EXIT.findings;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      if (error instanceof PrerequisiteError) {
        console.error(`smoke-mtproto: ${error.message}`);
        process.exitCode = EXIT.usage;
        return;
      }
      const failure = describeFailure("smoke-mtproto", error);
      console.error(failure.text);
      process.exitCode = failure.exitCode;
    },
  );
}
