/**
 * The pre-commit hook in a real temporary git repository: the toolkit copied in, hooks installed
 * by the prepare script's task, commits made with plain `git commit`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SyncStagedReport } from "../../tasks/sync-staged.ts";
import { createToolkitRepo, type ToolkitRepo } from "./toolkit-repo.ts";

// Each test spawns git commits and their hooks; on a loaded 2-core machine that takes seconds.
setDefaultTimeout(60_000);

const REGISTRY = "config/ports/registry.yaml";

let repo: ToolkitRepo;
let registrySource: string;

beforeAll(() => {
  repo = createToolkitRepo({ hasHooks: true, prefix: "port-governance-pre-commit-" });
  registrySource = readFileSync(join(repo.root, REGISTRY), "utf8");
});
afterAll(() => repo.remove());
afterEach(() => {
  repo.git("reset", "-q", "--hard");
  repo.git("clean", "-fdq");
});

/** The documentation hub's `port: 3101` line, changed. */
function withDocsHubPort(port: number): string {
  const edited = registrySource.replace(
    /(- name: documentation-hub\n\s+stack: frontend\n\s+port: )3101/,
    `$1${port}`,
  );
  if (edited === registrySource) throw new Error("the registry no longer has documentation-hub on 3101");
  return edited;
}

describe("pre-commit, registry staged", () => {
  test("a registry edit commits together with every file it regenerates", () => {
    repo.write(REGISTRY, withDocsHubPort(3150));
    // What the commit must carry: the registry and every file sync would change for it.
    const planned = repo.run(["bun", "tasks/sync.ts", "--check", "--json"]);
    const stale: string[] = JSON.parse(planned.stdout)
      .files.filter((file: { state: string }) => file.state !== "unchanged")
      .map((file: { path: string }) => file.path)
      .sort();
    expect(stale).toContain(".env.shared");
    expect(stale).toContain("tools/compose/docker-compose.frontend.yml");

    repo.git("add", REGISTRY);
    const commit = repo.git("commit", "-m", "Move the documentation hub to 3150");
    expect(commit.exitCode).toBe(0);
    expect(commit.output).toContain(
      `sync-staged: config/ports/registry.yaml is valid; regenerated and staged ${stale.length} file(s): ` +
        `${stale.join(", ")}\n`,
    );
    expect(repo.git("show", "--name-only", "--format=", "HEAD").stdout.split("\n").filter(Boolean)).toEqual(
      [...stale, REGISTRY].sort(),
    );
    expect(repo.git("show", "HEAD:.env.shared").stdout).toContain("DOCUMENTATION_HUB_PORT=3150\n");
    // Nothing left behind: the work tree is clean and the committed tree is in sync.
    expect(repo.git("status", "--porcelain").stdout).toBe("");
    const check = repo.run(["bun", "tasks/sync.ts", "--check"]);
    expect(check.exitCode).toBe(0);
    expect(check.stdout).toMatch(/^sync --check: \d+ generated files are up to date\n$/);
    expect(check.stderr).toBe("");
  });

  test("git commit <registry> carries the generated files and says how to update the index after", () => {
    repo.write(REGISTRY, withDocsHubPort(3155));
    const commit = repo.git("commit", "-m", "Move the documentation hub to 3155", "--", REGISTRY);
    expect(commit.exitCode).toBe(0);
    const committed = repo.git("show", "--name-only", "--format=", "HEAD").stdout.split("\n").filter(Boolean);
    expect(committed).toContain(".env.shared");
    expect(repo.git("show", "HEAD:.env.shared").stdout).toContain("DOCUMENTATION_HUB_PORT=3155\n");
    const generated = committed.filter((path) => path !== REGISTRY);
    expect(commit.output).toContain(
      "sync-staged: note: this commit names its paths (git commit <paths>), so it carries the files above " +
        `but your index keeps their old copies. After the commit, run:\n  git add -- ${generated.join(" ")}\n`,
    );
    // Exactly the state the note describes, and its command fixes it.
    expect(repo.git("status", "--porcelain").stdout).toBe(generated.map((path) => `MM ${path}\n`).join(""));
    repo.git("add", "--", ...generated);
    expect(repo.git("status", "--porcelain").stdout).toBe("");
  });

  test("a duplicate port is blocked, printing the rule, the location and the fix", () => {
    const before = repo.git("rev-parse", "HEAD").stdout;
    repo.write(REGISTRY, withDocsHubPort(3100));
    repo.git("add", REGISTRY);
    const commit = repo.git("commit", "-m", "Put the documentation hub on the dashboard's port");
    expect(commit.exitCode).toBe(1);
    const line = registrySource.split("\n").indexOf("  - name: documentation-hub") + 3;
    expect(commit.output).toContain(
      `config/ports/registry.yaml:${line}:11 error port-duplicate port 3100 is already used by dashboard\n`,
    );
    expect(commit.output).toContain(
      "sync-staged: fix: correct the line(s) above (npm run ports:validate explains each rule), " +
        "git add config/ports/registry.yaml, commit again.",
    );
    expect(commit.output).toContain("registry: the registry is invalid or partly staged");
    // A finding, not a crash: no stack frames anywhere in the hook's output.
    expect(commit.output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(repo.git("rev-parse", "HEAD").stdout).toBe(before);
    // Nothing was generated from the invalid registry.
    expect(repo.git("status", "--porcelain").stdout).toBe(`M  ${REGISTRY}\n`);
  });

  test("a partly staged registry: the commit carries the staged version and the files generated from it", () => {
    repo.write(REGISTRY, withDocsHubPort(3160));
    repo.git("add", REGISTRY);
    repo.write(REGISTRY, withDocsHubPort(3161));
    const commit = repo.git("commit", "-m", "Stage half of a change");
    expect(commit.exitCode).toBe(0);
    // lefthook sets unstaged edits aside while the hook runs, so the step sees the staged registry.
    expect(repo.git("show", "HEAD:.env.shared").stdout).toContain("DOCUMENTATION_HUB_PORT=3160\n");
    expect(repo.git("show", `HEAD:${REGISTRY}`).stdout).toBe(withDocsHubPort(3160));
    expect(repo.git("status", "--porcelain").stdout).toBe(` M ${REGISTRY}\n`);
    expect(readFileSync(join(repo.root, REGISTRY), "utf8")).toBe(withDocsHubPort(3161));
  });

  test("run by hand on a partly staged registry, the step refuses and says how to fix it", () => {
    repo.write(REGISTRY, withDocsHubPort(3170));
    repo.git("add", REGISTRY);
    repo.write(REGISTRY, withDocsHubPort(3171));
    const result = repo.run(["bun", "tasks/sync-staged.ts"]);
    expect({ exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }).toEqual({
      exitCode: 1,
      stdout: "",
      stderr:
        "sync-staged: config/ports/registry.yaml has unstaged changes, so the commit would carry a registry " +
        "other than the one checked.\nsync-staged: fix: git add config/ports/registry.yaml " +
        "(or git stash --keep-index), then commit again.\n",
    });
    expect(repo.git("status", "--porcelain").stdout).toBe(`MM ${REGISTRY}\n`);
  });
});

describe("tasks/sync-staged.ts by hand", () => {
  test("--json reports what it staged", () => {
    repo.write(REGISTRY, withDocsHubPort(3180));
    repo.git("add", REGISTRY);
    const result = repo.run(["bun", "tasks/sync-staged.ts", "--json"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    const report: SyncStagedReport = JSON.parse(result.stdout);
    expect(report).toEqual({
      registry: REGISTRY,
      isStagedAsOnDisk: true,
      isValid: true,
      diagnostics: [],
      isPathLimitedCommit: false,
      staged: repo
        .git("diff", "--cached", "--name-only")
        .stdout.split("\n")
        .filter((path) => path !== "" && path !== REGISTRY),
    });
    expect(report.staged).toContain(".env.shared");
    expect(repo.git("diff", "--name-only").stdout).toBe("");
  });

  test("outside a git work tree it is a usage error, in one line", () => {
    const result = repo.run(["bun", join(repo.root, "tasks/sync-staged.ts"), "--root", tmpdir()]);
    expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({ exitCode: 2, stdout: "" });
    expect(result.stderr).toMatch(
      /^sync-staged: .+ is not inside a git work tree; this step runs from the pre-commit hook\n$/,
    );
  });
});

describe("pre-commit, ordinary files staged", () => {
  test("Biome fixes the formatting of staged files and the commit carries the fix", () => {
    repo.write("lib/answer.ts", "export const answer   =  42\n");
    repo.git("add", "lib/answer.ts");
    const commit = repo.git("commit", "-m", "Add the answer");
    expect(commit.exitCode).toBe(0);
    expect(repo.git("show", "HEAD:lib/answer.ts").stdout).toBe("export const answer = 42;\n");
    expect(repo.git("status", "--porcelain").stdout).toBe("");
  });

  test("a Biome error it cannot fix blocks the commit and says so", () => {
    const before = repo.git("rev-parse", "HEAD").stdout;
    repo.write("lib/debug.ts", 'export function debug(): void {\n  console.log("x");\n}\n');
    repo.git("add", "lib/debug.ts");
    const commit = repo.git("commit", "-m", "Print from lib");
    expect(commit.exitCode).toBe(1);
    expect(commit.output).toContain("lint/suspicious/noConsole");
    expect(commit.output).toContain("biome: Biome found problems it cannot fix");
    expect(repo.git("rev-parse", "HEAD").stdout).toBe(before);
  });
});

describe("pre-commit, hardcoded ports", () => {
  const HARDCODED = 'export const gatewayUrl = "http://localhost:4010";\n';

  test("a staged file with localhost:4010 is blocked; staging only an unrelated file still commits", () => {
    const before = repo.git("rev-parse", "HEAD").stdout;
    repo.write("lib/gateway-client.ts", HARDCODED);
    repo.write("lib/notes.ts", 'export const note = "ports come from .env.shared";\n');
    repo.git("add", "lib/gateway-client.ts");
    const blocked = repo.git("commit", "-m", "Call the gateway");
    expect(blocked.exitCode).toBe(1);
    expect(blocked.output).toContain(
      "lib/gateway-client.ts:1:45 localhost-port localhost:4010 hardcodes the port of telegram-gateway-api; " +
        "use process.env.TELEGRAM_GATEWAY_API_URL instead (from the host: localhost and process.env.TELEGRAM_GATEWAY_API_PORT)\n",
    );
    expect(blocked.output).toContain(
      "scan-hardcoded: a hardcoded port is staged: use the .env.shared variable",
    );
    expect(repo.git("rev-parse", "HEAD").stdout).toBe(before);

    repo.git("reset", "-q", "--", "lib/gateway-client.ts");
    repo.git("add", "lib/notes.ts");
    const unrelated = repo.git("commit", "-m", "Add a note");
    expect(unrelated.exitCode).toBe(0);
    expect(repo.git("show", "--name-only", "--format=", "HEAD").stdout).toBe("lib/notes.ts\n");
    // The file with the hardcoded port is still in the work tree, untouched and uncommitted.
    expect(repo.git("status", "--porcelain").stdout).toBe("?? lib/gateway-client.ts\n");
    expect(readFileSync(join(repo.root, "lib/gateway-client.ts"), "utf8")).toBe(HARDCODED);
  });

  test("the scanner's glob reaches .env files and Dockerfiles too", () => {
    const before = repo.git("rev-parse", "HEAD").stdout;
    repo.write(".env.local", "PORT=4010\n");
    repo.write("Dockerfile.dev", "FROM scratch\nENV GATEWAY_URL=http://localhost:4010\n");
    repo.git("add", ".env.local", "Dockerfile.dev");
    const commit = repo.git("commit", "-m", "Local overrides");
    expect(commit.exitCode).toBe(1);
    expect(commit.output).toMatch(/^\.env\.local:1:\d+ /m);
    expect(commit.output).toMatch(/^Dockerfile\.dev:2:\d+ /m);
    expect(repo.git("rev-parse", "HEAD").stdout).toBe(before);
  });

  test("an inline ports:allow with a reason lets the literal through", () => {
    const allowed =
      'export const gatewayUrl = "http://localhost:4010"; // ports:allow the contract test pins the published port\n';
    repo.write("lib/gateway-client.ts", allowed);
    repo.git("add", "lib/gateway-client.ts");
    const commit = repo.git("commit", "-m", "Pin the gateway port for the contract test");
    expect(commit.exitCode).toBe(0);
    expect(commit.output).toContain("0 hardcoded port(s) in 0 file(s) (scanned 1 file(s); 1 allowed inline)");
    expect(repo.git("show", "HEAD:lib/gateway-client.ts").stdout).toBe(allowed);
  });

  test("ports:allow without a reason is itself blocked", () => {
    const before = repo.git("rev-parse", "HEAD").stdout;
    repo.write("lib/reasonless.ts", 'export const url = "http://localhost:4010"; // ports:allow\n');
    repo.git("add", "lib/reasonless.ts");
    const commit = repo.git("commit", "-m", "Allow without saying why");
    expect(commit.exitCode).toBe(1);
    expect(commit.output).toMatch(/lib\/reasonless\.ts:1:\d+ \S+ /);
    expect(repo.git("rev-parse", "HEAD").stdout).toBe(before);
  });
});

/** A pre-push job run the way git runs the hook: `lines` on stdin, one per pushed ref. */
function prePush(lines: string, extraEnv: Record<string, string> = {}) {
  const result = Bun.spawnSync(
    [join(repo.root, "node_modules", ".bin", "lefthook"), "run", "pre-push", "--job", "sync-check"],
    {
      cwd: repo.root,
      env: { ...repo.env, ...extraEnv },
      stdin: Buffer.from(lines),
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  return { exitCode: result.exitCode, output: `${result.stdout.toString()}${result.stderr.toString()}` };
}

describe("pre-push", () => {
  test("a hand-edited generated file that was committed blocks the push with the file, the diff and the fix", () => {
    const envShared = readFileSync(join(repo.root, ".env.shared"), "utf8");
    repo.write(".env.shared", envShared.replace("DASHBOARD_PORT=3100", "DASHBOARD_PORT=3199"));
    repo.git("add", ".env.shared");
    expect(repo.git("commit", "--no-verify", "-m", "Edit a generated file by hand").exitCode).toBe(0);
    // The work tree is fixed again, but what is pushed is the commit.
    repo.write(".env.shared", envShared);
    const push = repo.run(["lefthook", "run", "pre-push", "--job", "sync-check"]);
    repo.git("reset", "-q", "--hard", "HEAD~1"); // the other tests start from a tree in sync
    expect(push.exitCode).toBe(1);
    expect(push.output).toContain("stale    .env.shared\n");
    expect(push.output).toContain("+DASHBOARD_PORT=3100\n");
    expect(push.output).toContain(
      "sync --check: 1 generated file(s) out of date; run npm run ports:sync and commit the result",
    );
    expect(push.output).toContain(
      "sync-check: generated files in the commits being pushed are out of date: run npm run ports:sync",
    );
  });

  test("a push of another branch checks that branch's commit, as git names it on stdin", () => {
    const envShared = readFileSync(join(repo.root, ".env.shared"), "utf8");
    repo.git("checkout", "-q", "-b", "hand-edited");
    repo.write(".env.shared", envShared.replace("DASHBOARD_PORT=3100", "DASHBOARD_PORT=3199"));
    repo.git("add", ".env.shared");
    expect(repo.git("commit", "--no-verify", "-m", "Edit a generated file by hand").exitCode).toBe(0);
    const sha = repo.git("rev-parse", "HEAD").stdout.trim();
    repo.git("checkout", "-q", "main"); // HEAD is in sync; the branch being pushed is not
    try {
      const zeros = "0".repeat(40);
      const stale = prePush(`refs/heads/hand-edited ${sha} refs/heads/hand-edited ${zeros}\n`);
      expect(stale.exitCode).toBe(1);
      expect(stale.output).toContain("stale    .env.shared\n");
      // Nothing on stdin (run by hand) checks HEAD; a deleted ref pushes no commit.
      expect(prePush("").exitCode).toBe(0);
      expect(prePush(`(delete) ${zeros} refs/heads/old ${sha}\n`).exitCode).toBe(0);
      // And through git itself, to a bare remote (the test job is left out of this push).
      const remote = join(repo.root, "..", `${repo.root.split("/").pop()}-remote.git`);
      expect(repo.git("init", "-q", "--bare", remote).exitCode).toBe(0);
      repo.git("remote", "add", "origin", remote);
      const push = repo.run(["git", "push", "origin", "hand-edited"], { env: { LEFTHOOK_EXCLUDE: "test" } });
      expect(push.exitCode).not.toBe(0);
      expect(push.output).toContain("stale    .env.shared");
      repo.git("remote", "remove", "origin");
      repo.run(["rm", "-rf", remote]);
    } finally {
      repo.git("branch", "-q", "-D", "hand-edited");
    }
  });

  test("an uncommitted registry edit does not block pushing the commits that are in sync", () => {
    const registry = readFileSync(join(repo.root, "config/ports/registry.yaml"), "utf8");
    repo.write(
      "config/ports/registry.yaml",
      registry.replace("owner: Workspace Team", "owner: Workspace Squad"),
    );
    const push = repo.run(["lefthook", "run", "pre-push", "--job", "sync-check"]);
    expect({ exitCode: push.exitCode, output: push.output }).toMatchObject({ exitCode: 0 });
    expect(push.output).toContain("11 generated files are up to date");
  });

  test("export attributes (export-ignore, export-subst) do not change what the push check reads", () => {
    repo.write(".gitattributes", "docs/** export-ignore\n.env.shared export-subst\n");
    repo.write(".env.shared", `${readFileSync(join(repo.root, ".env.shared"), "utf8")}`);
    repo.git("add", ".gitattributes");
    expect(repo.git("commit", "--no-verify", "-m", "Export attributes").exitCode).toBe(0);
    const push = repo.run(["lefthook", "run", "pre-push", "--job", "sync-check"]);
    repo.git("reset", "-q", "--hard", "HEAD~1");
    expect({ exitCode: push.exitCode, output: push.output }).toMatchObject({ exitCode: 0 });
    expect(push.output).toContain("11 generated files are up to date");
  });
});
