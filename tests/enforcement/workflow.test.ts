/**
 * The GitHub workflow and lefthook.yml, checked by the tools that read them: action-validator (the
 * GitHub workflow schema), `lefthook validate`, and every task each of them calls, with its flags.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { classifyPath } from "../../lib/scan.ts";
import { createToolkitRepo, developerEnv, runIn, TOOLKIT_ROOT, type ToolkitRepo } from "./toolkit-repo.ts";

// Each test spawns git commits and their hooks; on a loaded 2-core machine that takes seconds.
setDefaultTimeout(60_000);

const WORKFLOW_PATH = ".github/workflows/port-governance.yml";
const workflowSource = readFileSync(join(TOOLKIT_ROOT, WORKFLOW_PATH), "utf8");
const lefthookSource = readFileSync(join(TOOLKIT_ROOT, "lefthook.yml"), "utf8");
const packageJson = JSON.parse(readFileSync(join(TOOLKIT_ROOT, "package.json"), "utf8"));

type Step = {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
};
type Job = { "runs-on": string; permissions: Record<string, string>; steps: Step[] };
type Workflow = {
  on: { pull_request: null; push: { branches: string[] } };
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
};
const workflow = parse(workflowSource) as Workflow;

let workspace: string;
beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), "port-governance-workflow-"));
});
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

const env = developerEnv();

describe("the workflow against the GitHub workflow schema (action-validator)", () => {
  test("is valid", () => {
    const result = runIn(TOOLKIT_ROOT, ["action-validator", WORKFLOW_PATH], env);
    expect(result).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
  });

  test("rejects the same file with a misspelt key, so the check above has teeth", () => {
    const broken = join(workspace, "broken.yml");
    writeFileSync(
      broken,
      workflowSource.replace("    runs-on: ubuntu-latest\n", "    runs_on: ubuntu-latest\n"),
    );
    const result = runIn(TOOLKIT_ROOT, ["action-validator", broken], env);
    expect(result.exitCode).toBe(1);
    expect(result.output).toContain("Additional property 'runs_on' is not allowed");
  });
});

describe("the workflow's content", () => {
  test("triggers on every pull request (any file can bring a hardcoded port), and on every push to main and develop", () => {
    expect(workflow.on.pull_request ?? null).toBeNull();
    expect(Object.keys(workflow.on)).toContain("pull_request");
    expect(workflow.on.push).toEqual({ branches: ["main", "develop"] });
  });

  test("asks for least privilege: read at the top, writes only where a step writes", () => {
    expect(workflow.permissions).toEqual({ contents: "read" });
    expect(workflow.jobs.governance?.permissions).toEqual({
      contents: "read",
      "pull-requests": "write",
      "security-events": "write",
      actions: "read",
    });
    expect(workflow.jobs["mtproto-smoke"]?.permissions).toEqual({ contents: "read" });
  });

  test("uses the Bun the lockfile pins and a frozen npm install, in both jobs", () => {
    for (const job of Object.values(workflow.jobs)) {
      const setupBun = job.steps.find((step) => step.uses?.startsWith("oven-sh/setup-bun@"));
      expect(setupBun?.with).toEqual({ "bun-version": packageJson.devDependencies.bun });
      expect(job.steps.some((step) => step.run === "npm ci --no-audit --no-fund")).toBe(true);
      expect(job["runs-on"]).toBe("ubuntu-latest");
    }
    expect(existsSync(join(TOOLKIT_ROOT, "package-lock.json"))).toBe(true);
  });

  test("runs the design's checks, uploads the report and SARIF, and comments on failure", () => {
    const steps = workflow.jobs.governance?.steps ?? [];
    const runs = steps.flatMap((step) => (step.run ? [step.run] : []));
    for (const command of [
      "bun tasks/validate.ts",
      "bun tasks/validate.ts --mode duplicates",
      "bun tasks/validate.ts --mode ranges",
      "bun tasks/scan-hardcoded.ts",
      "bun tasks/sync.ts --check",
      "bun tasks/report.ts --json",
    ]) {
      expect(runs.some((run) => run.split("\n").some((line) => line.trim().startsWith(command)))).toBe(true);
    }
    const uses = steps.flatMap((step) => (step.uses ? [step.uses.split("@")[0]] : []));
    expect(uses).toEqual([
      "actions/checkout",
      "actions/setup-node",
      "oven-sh/setup-bun",
      "actions/upload-artifact",
      "github/codeql-action/upload-sarif",
      "actions/github-script",
    ]);
    // Code scanning may be off (a private repository without it): the upload never fails the job.
    const upload = steps.find((step) => step.uses?.startsWith("github/codeql-action/upload-sarif@"));
    expect((upload as { "continue-on-error"?: boolean } | undefined)?.["continue-on-error"]).toBe(true);
    const comment = steps.find((step) => step.uses?.startsWith("actions/github-script@"));
    expect(comment?.if).toContain("failure() && github.event_name == 'pull_request'");
    // The comment's script compiles as the async function body github-script runs it as.
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    expect(() => new AsyncFunction("github", "context", String(comment?.with?.script))).not.toThrow();
    const smoke = workflow.jobs["mtproto-smoke"]?.steps ?? [];
    expect(smoke.some((step) => step.run === "bun tasks/smoke-mtproto.ts --native")).toBe(true);
  });
});

describe("lefthook.yml", () => {
  test("passes lefthook validate", () => {
    const repo = join(workspace, "lefthook-validate");
    runIn(workspace, ["git", "init", "-q", repo], env);
    copyFileSync(join(TOOLKIT_ROOT, "lefthook.yml"), join(repo, "lefthook.yml"));
    const result = runIn(repo, ["lefthook", "validate"], env);
    expect(result.exitCode).toBe(0);
    expect(result.output).toContain("All good");
  });

  test("runs pre-commit jobs in parallel, stages Biome's fixes, and runs the tests and sync --check on push", () => {
    const config = parse(lefthookSource);
    expect(config["pre-commit"].parallel).toBe(true);
    const fixAndSync = config["pre-commit"].jobs.find((job: { name: string }) => job.name === "fix-and-sync");
    expect(
      fixAndSync.group.jobs.map((job: { name: string; stage_fixed?: boolean }) => [
        job.name,
        job.stage_fixed,
      ]),
    ).toEqual([
      ["biome", true],
      ["registry", undefined],
    ]);
    expect(config["pre-push"].jobs.map((job: { run: string }) => job.run)).toEqual([
      "node_modules/.bin/bun tasks/sync.ts --check --pushed",
      "npm test",
    ]);
    for (const job of [...config["pre-commit"].jobs, ...fixAndSync.group.jobs, ...config["pre-push"].jobs]) {
      if (job.run) expect(job.fail_text).toMatch(/\S/);
    }
  });

  test("the staged scan sees every file type the scanner reads, and only those", () => {
    const config = parse(lefthookSource);
    const scan = config["pre-commit"].jobs.find((job: { name: string }) => job.name === "scan-hardcoded");
    const globs = (scan.glob as string[]).map((glob) => new Bun.Glob(glob));
    const sample = [
      ..."js jsx ts tsx mjs cjs mts cts json jsonc yml yaml sh bash zsh"
        .split(" ")
        .map((ext) => `apps/web/a.${ext}`),
      ".env",
      "apps/api/.env.local",
      "deploy/prod.env",
      ".envrc",
      "Dockerfile",
      "services/api/Dockerfile.dev",
      "README.md",
      "apps/web/logo.png",
      "apps/web/style.css",
    ];
    for (const path of sample) {
      const base = path.slice(path.lastIndexOf("/") + 1);
      const isMatched = globs.some((glob) => glob.match(path) || glob.match(base));
      expect({ path, isMatched }).toEqual({ path, isMatched: classifyPath(path) !== undefined });
    }
  });
});

describe("every task the workflow and the hooks call exists and accepts the flags they pass", () => {
  const invocations = [
    ...`${workflowSource}\n${lefthookSource}`.matchAll(/bun (tasks\/[\w-]+\.ts)((?: --[\w-]+)*)/g),
  ];
  const flagsByTask = new Map<string, Set<string>>();
  for (const [, task = "", flags = ""] of invocations) {
    const known = flagsByTask.get(task) ?? new Set<string>();
    for (const flag of flags.trim().split(/\s+/).filter(Boolean)) known.add(flag);
    flagsByTask.set(task, known);
  }

  test("the calls were found", () => {
    expect([...flagsByTask.keys()].sort()).toEqual([
      "tasks/install-hooks.ts",
      "tasks/report.ts",
      "tasks/scan-hardcoded.ts",
      "tasks/smoke-mtproto.ts",
      "tasks/sync-staged.ts",
      "tasks/sync.ts",
      "tasks/validate.ts",
    ]);
  });

  for (const [task, flags] of flagsByTask) {
    test(`${task} ${[...flags].join(" ")}`.trim(), () => {
      const help = runIn(TOOLKIT_ROOT, ["bun", task, "--help"], env);
      expect(help.exitCode).toBe(0);
      for (const flag of flags) expect(help.stdout).toContain(`  ${flag}`);
    });
  }
});

describe("the governance job's run steps, executed as GitHub runs them", () => {
  // GitHub's default for `run`: bash --noprofile --norc -eo pipefail {0}. The install step is the
  // one left out: the copy's node_modules is this checkout's.
  const steps = (workflow.jobs.governance?.steps ?? []).filter((step) => step.run && step.id !== "install");
  let repo: ToolkitRepo;
  let runnerTemp: string;
  beforeAll(() => {
    repo = createToolkitRepo({ hasHooks: false, prefix: "port-governance-workflow-steps-" });
    runnerTemp = mkdtempSync(join(tmpdir(), "port-governance-runner-temp-"));
  });
  afterAll(() => {
    repo.remove();
    rmSync(runnerTemp, { recursive: true, force: true });
  });

  function runStep(step: Step) {
    return repo.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step.run ?? ""], {
      // setup-bun puts bun on PATH; here it is the one in node_modules/.bin.
      env: {
        CI: "true",
        GITHUB_ACTIONS: "true",
        RUNNER_TEMP: runnerTemp,
        PATH: `${join(TOOLKIT_ROOT, "node_modules", ".bin")}:${developerEnv().PATH}`,
      },
    });
  }

  test("all pass on the toolkit as committed, and leave a report and a SARIF file", () => {
    expect(steps.map((step) => step.id)).toEqual([
      "validate",
      "duplicates",
      "ranges",
      "scan",
      "sarif",
      "sync",
      "report",
    ]);
    for (const step of steps) {
      const result = runStep(step);
      if (result.exitCode !== 0)
        throw new Error(`step ${step.id} exited ${result.exitCode}:\n${result.output}`);
    }
    const report = JSON.parse(readFileSync(join(runnerTemp, "ports-report.json"), "utf8"));
    expect(typeof report).toBe("object");
    const sarif = JSON.parse(readFileSync(join(runnerTemp, "ports-scan.sarif"), "utf8"));
    expect(sarif.version).toBe("2.1.0");
    expect(repo.git("status", "--porcelain").stdout).toBe("");
  });

  test("the sync step fails on a hand-edited generated file, listing it with the fix", () => {
    const envShared = readFileSync(join(repo.root, ".env.shared"), "utf8");
    repo.write(".env.shared", envShared.replace("DASHBOARD_PORT=3100", "DASHBOARD_PORT=3199"));
    repo.git("commit", "-q", "--no-verify", "-am", "Edit a generated file by hand");
    const sync = steps.find((step) => step.id === "sync");
    if (!sync) throw new Error("no sync step");
    const result = runStep(sync);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain(
      "::error title=Generated files out of date::ports:sync changed files that are committed differently\n" +
        "Files that ports:sync changed:\n M .env.shared\n",
    );
    expect(result.stdout).toContain("-DASHBOARD_PORT=3199\n+DASHBOARD_PORT=3100\n");
    expect(result.stdout).toEndWith("Fix: npm run ports:sync, then commit the changed files.\n");
  });
});
