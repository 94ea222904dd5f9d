/**
 * `bun tasks/sync.ts` as a user runs it: first run writes everything, a second run touches nothing,
 * --check lists stale, missing and orphaned files with diffs and writes nothing, orphans are deleted,
 * writes are atomic, and no symlink or hostile name lets a write leave the root.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { chmod, lstat, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { compareCodeUnits } from "../../lib/derive.ts";
import { renderAll } from "../../lib/render.ts";
import { resolveConfined, writeFileAtomic } from "../../lib/write.ts";
import type { SyncReport } from "../../tasks/sync.ts";
import {
  copyFixture,
  FIXTURES,
  makeTempDir,
  permissionsApply,
  REPO,
  removeDir,
  runTask,
  service,
} from "../core/support.ts";
import { loadValid } from "../golden/render-cases.ts";

const BASIC_REGISTRY = join(FIXTURES, "sync", "basic", "config", "ports", "registry.yaml");

const GENERATED = [
  ".env.shared",
  "config/ports/index.json",
  "config/ports/registry.schema.json",
  "docs/content/tools/ports-services.mdx",
  "scripts/maintenance/ports-health.sh",
  "tools/compose/docker-compose.data.yml",
  "tools/compose/docker-compose.web.yml",
];

const cleanups: string[] = [];
afterEach(async () => {
  for (const directory of cleanups.splice(0)) await removeDir(directory);
});

async function basicRoot(): Promise<string> {
  const root = await copyFixture("sync/basic");
  cleanups.push(root);
  return root;
}

type FileState = { ino: number; mtimeMs: number; mode: string; content: string };

/** Every file under the root (symlinks reported as such), for "nothing was written" assertions. */
async function snapshot(root: string): Promise<Record<string, FileState | "symlink">> {
  const result: Record<string, FileState | "symlink"> = {};
  const entries = (await readdir(root, { recursive: true })).sort(compareCodeUnits);
  for (const entry of entries) {
    const info = await lstat(join(root, entry));
    if (info.isSymbolicLink()) result[entry] = "symlink";
    else if (info.isFile()) {
      result[entry] = {
        ino: info.ino,
        mtimeMs: info.mtimeMs,
        mode: (info.mode & 0o777).toString(8),
        content: await readFile(join(root, entry), "utf8"),
      };
    }
  }
  return result;
}

const sync = (root: string, ...args: string[]) => runTask("sync", ["--root", root, ...args]);

describe("sync writes", () => {
  test("a first run writes every file; a second run writes nothing and leaves mtimes alone", async () => {
    const root = await basicRoot();
    expect(sync(root)).toEqual({
      stdout: `${GENERATED.map((path) => `written  ${path}`).join("\n")}\nsync: 7 of 7 generated files updated\n`,
      stderr: "",
      exitCode: 0,
    });
    const outputs = renderAll(await loadValid(BASIC_REGISTRY), {
      registryFile: "config/ports/registry.yaml",
    });
    for (const output of outputs) {
      expect(await readFile(join(root, output.path), "utf8")).toBe(output.content);
    }
    expect(((await lstat(join(root, "scripts/maintenance/ports-health.sh"))).mode & 0o777).toString(8)).toBe(
      "755",
    );

    const before = await snapshot(root);
    await Bun.sleep(20);
    expect(sync(root)).toEqual({
      stdout: "sync: 7 generated files already up to date\n",
      stderr: "",
      exitCode: 0,
    });
    expect(await snapshot(root)).toEqual(before);
    expect(sync(root, "--check")).toEqual({
      stdout: "sync --check: 7 generated files are up to date\n",
      stderr: "",
      exitCode: 0,
    });
  });

  test("warnings go to stderr and do not stop the write (exit 0)", async () => {
    const root = await makeTempDir();
    cleanups.push(root);
    await mkdir(join(root, "config/ports"), { recursive: true });
    await writeFile(
      join(root, "config/ports/registry.yaml"),
      await readFile(join(FIXTURES, "sync", "hostile", "registry.yaml")),
    );
    const result = sync(root, "--quiet");
    expect(result).toEqual({
      stdout: "",
      stderr:
        "config/ports/registry.yaml:28:18 warning depends-native container web depends on native service worker; it is reached at host.docker.internal:4001 (extra_hosts: host-gateway), never localhost. Containerize worker to remove this warning\n",
      exitCode: 0,
    });
    expect((await readdir(join(root, "tools/compose"))).sort(compareCodeUnits)).toEqual([
      "docker-compose.edge.yml",
    ]);
  });

  test("--quiet prints nothing when all is well", async () => {
    const root = await basicRoot();
    expect(sync(root, "--quiet")).toEqual({ stdout: "", stderr: "", exitCode: 0 });
  });

  test("writes are atomic: a changed file is replaced by rename and no temp file is left", async () => {
    const root = await basicRoot();
    sync(root);
    const envPath = join(root, ".env.shared");
    const before = await lstat(envPath);
    await writeFile(envPath, "SHOP_PORT=1\n");
    const edited = await lstat(envPath);
    expect(edited.ino).toBe(before.ino);
    expect(sync(root).stdout).toBe("written  .env.shared\nsync: 1 of 7 generated files updated\n");
    expect((await lstat(envPath)).ino).not.toBe(before.ino);
    const leftovers = (await readdir(root, { recursive: true })).filter((path) => path.endsWith(".tmp"));
    expect(leftovers).toEqual([]);
  });

  test("writeFileAtomic leaves the old content in place when the rename cannot happen", async () => {
    const root = await makeTempDir();
    cleanups.push(root);
    await writeFile(join(root, "out.txt"), "old\n");
    await mkdir(join(root, "dir"));
    await expect(writeFileAtomic(root, "dir", "new\n")).rejects.toThrow();
    expect(await readFile(join(root, "out.txt"), "utf8")).toBe("old\n");
    expect((await readdir(root)).sort(compareCodeUnits)).toEqual(["dir", "out.txt"]);
  });
});

/** Sync without the privileges that bypass file modes, while tools/compose is read-only. */
async function syncWithComposeDirReadOnly(root: string) {
  await chmod(join(root, "tools/compose"), 0o555);
  try {
    return Bun.spawnSync(
      [...permissionsApply(), process.execPath, join(REPO, "tasks/sync.ts"), "--root", root],
      { cwd: REPO, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" },
    );
  } finally {
    await chmod(join(root, "tools/compose"), 0o755);
  }
}

describe("all or nothing", () => {
  test("a file where an output directory belongs: one line, exit 2, nothing written", async () => {
    const root = await basicRoot();
    await mkdir(join(root, "tools"));
    await writeFile(join(root, "tools/compose"), "not a directory\n");
    const before = (await readdir(root, { recursive: true })).sort(compareCodeUnits);
    expect(sync(root)).toEqual({
      stdout: "",
      stderr: "sync: cannot write tools/compose/docker-compose.data.yml: tools/compose is not a directory\n",
      exitCode: 2,
    });
    expect((await readdir(root, { recursive: true })).sort(compareCodeUnits)).toEqual(before);
  });

  test("a write that fails part-way puts no file in place and removes the directories it made", async () => {
    // tools/compose is not writable, and its files come last: five files are already written
    // beside their targets when the first compose file fails.
    const root = await basicRoot();
    await mkdir(join(root, "tools/compose"), { recursive: true });
    const before = (await readdir(root, { recursive: true })).sort(compareCodeUnits);
    const result = await syncWithComposeDirReadOnly(root);
    expect(result.stderr.toString()).toBe(
      "sync: cannot write tools/compose/docker-compose.data.yml (permission denied); nothing was changed\n",
    );
    expect(result.stdout.toString()).toBe("");
    expect(result.exitCode).toBe(2);
    expect((await readdir(root, { recursive: true })).sort(compareCodeUnits)).toEqual(before);
  });
});

describe("all or nothing, with orphans and modes", () => {
  test("an orphan that cannot be removed: one line, exit 2, the stale file beside it left as it was", async () => {
    const root = await basicRoot();
    sync(root);
    const orphan =
      "# Generated by port-governance from config/ports/registry.yaml. Do not edit.\nservices: {}\n";
    await writeFile(join(root, "tools/compose/docker-compose.gone.yml"), orphan);
    const envPath = join(root, ".env.shared");
    await writeFile(envPath, (await readFile(envPath, "utf8")).replace("SHOP_PORT=4000", "SHOP_PORT=4999"));
    const before = await snapshot(root);
    const result = await syncWithComposeDirReadOnly(root);
    expect(result.stderr.toString()).toBe(
      "sync: cannot remove the orphaned tools/compose/docker-compose.gone.yml (permission denied); nothing was changed\n",
    );
    expect(result.exitCode).toBe(2);
    expect(await snapshot(root)).toEqual(before);
  });

  test("a umask's modes (664, 600, 775) are no difference: git records only the executable bit", async () => {
    const root = await basicRoot();
    sync(root);
    await chmod(join(root, ".env.shared"), 0o664);
    await chmod(join(root, "config/ports/index.json"), 0o600);
    await chmod(join(root, "scripts/maintenance/ports-health.sh"), 0o775);
    expect(sync(root, "--check")).toEqual({
      stdout: "sync --check: 7 generated files are up to date\n",
      stderr: "",
      exitCode: 0,
    });
    const before = await snapshot(root);
    expect(sync(root).exitCode).toBe(0);
    expect(await snapshot(root)).toEqual(before);
  });

  test("a lost executable bit is fixed by a rewrite, not a chmod of someone else's file", async () => {
    const root = await basicRoot();
    sync(root);
    const script = join(root, "scripts/maintenance/ports-health.sh");
    await chmod(script, 0o644);
    expect(sync(root).exitCode).toBe(0);
    expect((await lstat(script)).mode & 0o777).toBe(0o755);
    expect(sync(root, "--check").exitCode).toBe(0);
  });
});

describe("sync --check", () => {
  test("lists stale, missing, orphaned and mode-only files with diffs, exits 1 and writes nothing", async () => {
    const root = await basicRoot();
    sync(root);
    const envPath = join(root, ".env.shared");
    await writeFile(envPath, (await readFile(envPath, "utf8")).replace("SHOP_PORT=4000", "SHOP_PORT=4999"));
    await rm(join(root, "docs/content/tools/ports-services.mdx"));
    await chmod(join(root, "scripts/maintenance/ports-health.sh"), 0o644);
    const orphan =
      "# Generated by port-governance from config/ports/registry.yaml. Do not edit.\nservices: {}\n";
    await writeFile(join(root, "tools/compose/docker-compose.gone.yml"), orphan);
    await writeFile(join(root, "tools/compose/docker-compose.mine.yml"), "services: {}\n");
    const before = await snapshot(root);

    const docs = renderAll(await loadValid(BASIC_REGISTRY), {
      registryFile: "config/ports/registry.yaml",
    }).find((output) => output.path === "docs/content/tools/ports-services.mdx")?.content as string;
    const docsLines = docs.trimEnd().split("\n");
    const result = sync(root, "--check");
    expect(result).toEqual({
      stdout: [
        "stale    .env.shared",
        "missing  docs/content/tools/ports-services.mdx",
        "stale    scripts/maintenance/ports-health.sh",
        "orphaned tools/compose/docker-compose.gone.yml",
        "",
        "--- a/.env.shared",
        "+++ b/.env.shared",
        "@@ -11,7 +11,7 @@",
        " ORDERS_DB_URL=postgres://orders-db:5432",
        " ",
        " # --- stack: web",
        "-SHOP_PORT=4999",
        "+SHOP_PORT=4000",
        " SHOP_HOST=shop",
        " SHOP_URL=http://shop:4000",
        " SHOP_GATEWAY_PATH=/shop",
        "",
        "--- /dev/null",
        "+++ b/docs/content/tools/ports-services.mdx",
        `@@ -0,0 +1,${docsLines.length} @@`,
        ...docsLines.map((line) => `+${line}`),
        "",
        "scripts/maintenance/ports-health.sh: mode 644 should be executable (755)",
        "",
        "--- a/tools/compose/docker-compose.gone.yml",
        "+++ /dev/null",
        "@@ -1,2 +0,0 @@",
        "-# Generated by port-governance from config/ports/registry.yaml. Do not edit.",
        "-services: {}",
        "",
      ].join("\n"),
      stderr: "sync --check: 4 generated file(s) out of date; run npm run ports:sync and commit the result\n",
      exitCode: 1,
    });
    expect(await snapshot(root)).toEqual(before);
  });

  test("--check --json is one SyncReport document", async () => {
    const root = await basicRoot();
    sync(root);
    await rm(join(root, "tools/compose/docker-compose.web.yml"));
    const result = sync(root, "--check", "--json");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe("");
    const report = JSON.parse(result.stdout) as SyncReport;
    const web = report.files.find((file) => file.path === "tools/compose/docker-compose.web.yml");
    expect(web?.diff?.startsWith("--- /dev/null\n+++ b/tools/compose/docker-compose.web.yml\n")).toBe(true);
    expect(report).toEqual({
      registry: "config/ports/registry.yaml",
      check: true,
      isValid: true,
      isUpToDate: false,
      diagnostics: [],
      files: GENERATED.map((path) =>
        path === "tools/compose/docker-compose.web.yml"
          ? { path, state: "missing", diff: web?.diff as string }
          : { path, state: "unchanged" },
      ),
    });
    expect(result.stdout.endsWith("}\n")).toBe(true);
  });

  test("an invalid registry fails --check without writing", async () => {
    const root = await basicRoot();
    const registryPath = join(root, "config/ports/registry.yaml");
    await writeFile(registryPath, (await readFile(registryPath, "utf8")).replace("port: 4001", "port: 4000"));
    const before = await snapshot(root);
    expect(sync(root, "--check")).toEqual({
      stdout: "",
      stderr:
        "config/ports/registry.yaml:40:11 error port-duplicate port 4000 is already used by shop\n" +
        "sync: config/ports/registry.yaml has errors; nothing was written. Fix them, then run npm run ports:sync.\n",
      exitCode: 1,
    });
    expect(await snapshot(root)).toEqual(before);
  });
});

describe("orphans", () => {
  test("sync deletes a generated compose file whose stack is gone, and keeps hand-written ones", async () => {
    const root = await basicRoot();
    sync(root);
    const registryPath = join(root, "config/ports/registry.yaml");
    const source = await readFile(registryPath, "utf8");
    // Move orders-db into the web stack: the data stack has no container left, so its file is an orphan.
    await writeFile(
      registryPath,
      source
        .replace("stack: data\n    port: 5400", "stack: web\n    port: 4005")
        .replace('  data: "5400-5409"\n', ""),
    );
    await writeFile(join(root, "tools/compose/docker-compose.mine.yml"), "services: {}\n");
    const result = sync(root);
    expect(result).toEqual({
      stdout: [
        "written  .env.shared",
        "written  config/ports/index.json",
        "written  docs/content/tools/ports-services.mdx",
        "written  scripts/maintenance/ports-health.sh",
        "deleted  tools/compose/docker-compose.data.yml",
        "written  tools/compose/docker-compose.web.yml",
        "sync: 6 of 7 generated files updated",
        "",
      ].join("\n"),
      stderr: "",
      exitCode: 0,
    });
    expect((await readdir(join(root, "tools/compose"))).sort(compareCodeUnits)).toEqual([
      "docker-compose.mine.yml",
      "docker-compose.web.yml",
    ]);
  });
});

describe("confinement", () => {
  test("a symlinked output directory is refused with exit 2 and nothing is written", async () => {
    const root = await basicRoot();
    const outside = await makeTempDir("outside-");
    cleanups.push(outside);
    await mkdir(join(root, "tools"), { recursive: true });
    await symlink(outside, join(root, "tools/compose"));
    const before = await snapshot(root);
    expect(sync(root)).toEqual({
      stdout: "",
      stderr: "sync: refusing to write tools/compose/docker-compose.data.yml: tools/compose is a symlink\n",
      exitCode: 2,
    });
    expect(await snapshot(root)).toEqual(before);
    expect(await readdir(outside)).toEqual([]);
  });

  test("a symlinked target file is refused with exit 2, in --check too, and nothing is written", async () => {
    const root = await basicRoot();
    const outside = await makeTempDir("outside-");
    cleanups.push(outside);
    await writeFile(join(outside, "env"), "KEEP=1\n");
    await symlink(join(outside, "env"), join(root, ".env.shared"));
    const before = await snapshot(root);
    for (const args of [[], ["--check"]]) {
      expect(sync(root, ...args)).toEqual({
        stdout: "",
        stderr: "sync: refusing to write .env.shared: .env.shared is a symlink\n",
        exitCode: 2,
      });
    }
    expect(await snapshot(root)).toEqual(before);
    expect(await readFile(join(outside, "env"), "utf8")).toBe("KEEP=1\n");
  });

  test("a hostile stack name is a validation error, and nothing lands outside the root", async () => {
    const parent = await makeTempDir("parent-");
    cleanups.push(parent);
    const root = join(parent, "repo");
    await mkdir(join(root, "config/ports"), { recursive: true });
    const source = (await readFile(BASIC_REGISTRY, "utf8"))
      .replace('  data: "5400-5409"', '  "../../../escape": "5400-5409"')
      .replace("stack: data", 'stack: "../../../escape"');
    await writeFile(join(root, "config/ports/registry.yaml"), source);
    const result = sync(root);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      'config/ports/registry.yaml:6:3 error schema-value key "../../../escape" must be lowercase kebab-case',
    );
    expect((await readdir(parent, { recursive: true })).sort(compareCodeUnits)).toEqual([
      "repo",
      "repo/config",
      "repo/config/ports",
      "repo/config/ports/registry.yaml",
    ]);
  });

  test("resolveConfined refuses paths that climb out, are absolute, hold NUL or pass a symlink", async () => {
    const root = await makeTempDir();
    cleanups.push(root);
    await mkdir(join(root, "real"));
    await symlink(join(root, "real"), join(root, "link"));
    for (const path of ["../x", "a/../../x", "/etc/passwd", "a\0b", "", "link/file", "."]) {
      await expect(resolveConfined(root, path)).rejects.toThrow(/refusing to write/);
    }
    expect(await resolveConfined(root, "real/deeper/file.yml")).toBe(join(root, "real/deeper/file.yml"));
  });

  test("a root reached through a symlink still works (the real root is what counts)", async () => {
    const parent = await makeTempDir("parent-");
    cleanups.push(parent);
    const real = join(parent, "real");
    await rename(await basicRoot(), real);
    await symlink(real, join(parent, "alias"));
    expect(sync(join(parent, "alias")).exitCode).toBe(0);
    expect((await readdir(join(real, "tools/compose"))).length).toBe(2);
  });
});

describe("flags", () => {
  test("--help prints usage and exits 0", () => {
    const result = runTask("sync", ["--help"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout.startsWith("Usage: bun tasks/sync.ts [options]\n")).toBe(true);
    expect(result.stdout).toContain("--check");
  });

  test("an unknown flag is a usage error", () => {
    expect(runTask("sync", ["--chek"])).toEqual({
      stdout: "",
      stderr: "sync: unknown option --chek (did you mean --check?); see --help\n",
      exitCode: 2,
    });
  });
});

describe("output", () => {
  test("a reader that stops early (| head) ends the output quietly, with the usual exit code", async () => {
    const root = await makeTempDir();
    cleanups.push(root);
    const services = Array.from({ length: 400 }, (_, index) =>
      service(`svc-${index}`, 4000 + index, [], `s${Math.floor(index / 100)}`),
    );
    const ranges = [0, 1, 2, 3].map((stack) => `  s${stack}: "${4000 + stack * 100}-${4099 + stack * 100}"`);
    await mkdir(join(root, "config/ports"), { recursive: true });
    await writeFile(
      join(root, "config/ports/registry.yaml"),
      `version: "1.0.0"\nlastUpdated: "2025-11-11"\nranges:\n${ranges.join("\n")}\nnetworks:\n  backend: {}\nservices:\n${services.join("")}`,
    );
    expect(runTask("validate", ["--root", root]).exitCode).toBe(0);
    // --check --json on an empty root: every file's diff, far more than a pipe holds.
    const result = Bun.spawnSync(
      [
        "bash",
        "-c",
        `"$0" tasks/sync.ts --check --json --root "$1" | head -c 100 >/dev/null; echo "exit \${PIPESTATUS[0]}"`,
        process.execPath,
        root,
      ],
      { cwd: REPO, stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
    );
    expect(result.stderr.toString()).toBe("");
    expect(result.stdout.toString()).toBe("exit 1\n");
  });
});
