import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { copyFixture, FIXTURES, permissionsApply, removeDir, runTask } from "../core/support.ts";
import { type HeldPort, holdPortIn, ownCommand } from "../doctor/support.ts";
import { runNew, todayUtc } from "./support.ts";

const FIXTURE_REGISTRY = join(FIXTURES, "new", "basic", "config", "ports", "registry.yaml");
const REGISTRY = join("config", "ports", "registry.yaml");
const GENERATED = [
  ".env.shared",
  "config/ports/index.json",
  "config/ports/registry.schema.json",
  "docs/content/tools/ports-services.mdx",
  "scripts/maintenance/ports-health.sh",
  "tools/compose/docker-compose.data.yml",
  "tools/compose/docker-compose.web.yml",
];

const CART_FLAGS = [
  "--name",
  "shop-cart",
  "--stack",
  "web",
  "--port",
  "21101",
  "--protocol",
  "http",
  "--owner",
  "Web Team",
  "--description",
  "Shopping cart service",
  "--container",
  "--network",
  "shop_net",
  "--depends-on",
  "shop-api,shop-db",
  "--health-endpoint",
  "/health",
];

const CART_ENTRY = [
  "- name: shop-cart",
  "  stack: web",
  "  port: 21101",
  "  protocol: http",
  "  owner: Web Team",
  "  description: Shopping cart service",
  "  container: true",
  "  network: shop_net",
  "  depends_on:",
  "    - shop-api",
  "    - shop-db",
  "  healthcheck:",
  "    endpoint: /health",
  "    expected: 200",
];

let roots: string[] = [];
let held: HeldPort[] = [];
afterEach(async () => {
  await Promise.all(held.map((port) => port.close()));
  await Promise.all(roots.map((root) => removeDir(root)));
  roots = [];
  held = [];
});

async function shopRoot(): Promise<string> {
  const root = await copyFixture("new/basic");
  roots.push(root);
  return root;
}

const readRegistry = (root: string) => readFile(join(root, REGISTRY), "utf8");

describe("ports:new with flags (no terminal)", () => {
  test("adds the entry in its stack, keeps every comment and line, runs sync", async () => {
    const root = await shopRoot();
    const original = await readFile(FIXTURE_REGISTRY, "utf8");
    const result = await runNew([...CART_FLAGS, "--yes"], root);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(
      [
        ...CART_ENTRY,
        "new: wrote shop-cart (port 21101) to config/ports/registry.yaml",
        ...GENERATED.map((path) => `written  ${path}`),
        "sync: 7 of 7 generated files updated",
        "",
        "Next steps:",
        "  1. review the change: git diff (config/ports/registry.yaml and the files sync updated)",
        "  2. read SHOP_CART_PORT / SHOP_CART_URL from .env.shared instead of writing 21101 anywhere",
        "  3. start it: docker compose --env-file .env.shared -f tools/compose/docker-compose.web.yml up -d shop-cart (fill in image or build first)",
        "  4. check this machine: npm run ports:doctor",
        "  5. commit config/ports/registry.yaml together with the generated files",
        "",
      ].join("\n"),
    );
    expect(result.exitCode).toBe(0);

    const written = await readRegistry(root);
    // Every original line survives in order (comments included); only lastUpdated changes.
    const expected = original
      .replace('lastUpdated: "2025-01-01"', `lastUpdated: "${todayUtc()}"`)
      .replace(
        "      expected: 200\n\n  - name: shop-api",
        `      expected: 200\n\n${CART_ENTRY.map((line) => `  ${line}`).join("\n")}\n\n  - name: shop-api`,
      );
    expect(written).toBe(expected);
    for (const comment of original.split("\n").filter((line) => line.includes("#"))) {
      expect(written).toContain(comment);
    }
    const services = (parse(written) as { services: { name: string }[] }).services.map(
      (service) => service.name,
    );
    expect(services).toEqual(["shop-web", "shop-cart", "shop-api", "shop-db"]);

    // Sync ran: every generated file exists, carries the new service, and --check agrees.
    for (const path of GENERATED) expect(existsSync(join(root, path))).toBe(true);
    expect(await readFile(join(root, ".env.shared"), "utf8")).toContain("SHOP_CART_PORT=21101\n");
    expect(await readFile(join(root, "tools/compose/docker-compose.web.yml"), "utf8")).toContain(
      "shop-cart:",
    );
    const check = runTask("sync", ["--check", "--root", root]);
    expect(check).toEqual({
      stdout: "sync --check: 7 generated files are up to date\n",
      stderr: "",
      exitCode: 0,
    });
  });

  test("when sync cannot write, the registry is put back: the run changes nothing", async () => {
    const root = await shopRoot();
    await mkdir(join(root, "tools/compose"), { recursive: true });
    await chmod(join(root, "tools/compose"), 0o555);
    const before = await readRegistry(root);
    const result = await runNew([...CART_FLAGS, "--yes"], root, 20_000, permissionsApply());
    await chmod(join(root, "tools/compose"), 0o755);
    expect(result.stderr).toBe(
      "new: cannot write tools/compose/docker-compose.data.yml (permission denied); nothing was changed\n",
    );
    expect(result.exitCode).toBe(2);
    expect(await readRegistry(root)).toBe(before);
    expect((await readdir(root, { recursive: true })).sort()).toEqual([
      "config",
      "config/ports",
      "config/ports/registry.yaml",
      "tools",
      "tools/compose",
    ]);
  });

  test("--dry-run prints the entry and the diff and writes nothing", async () => {
    const root = await shopRoot();
    const result = await runNew([...CART_FLAGS, "--dry-run"], root);
    expect(result.stderr).toBe("");
    const hunks = [
      "--- a/config/ports/registry.yaml",
      "+++ b/config/ports/registry.yaml",
      "@@ -1,7 +1,7 @@",
      " # Port registry of the shop: the fixture ports:new edits.",
      " # Every comment in this file must survive an added service.",
      ' version: "1.0.0"',
      '-lastUpdated: "2025-01-01"',
      `+lastUpdated: "${todayUtc()}"`,
      " ",
      " # One range per stack.",
      " ranges:",
      "@@ -27,6 +27,21 @@",
      "       - shop-api",
      "     healthcheck:",
      "       endpoint: /",
      "+      expected: 200",
      "+",
      ...CART_ENTRY.slice(0, -1).map((line) => `+  ${line}`),
      "       expected: 200",
      " ",
      "   - name: shop-api",
    ];
    expect(result.stdout).toBe(
      `${CART_ENTRY.join("\n")}\n\n${hunks.join("\n")}\n\nnew: dry run; nothing was written\n`,
    );
    expect(result.exitCode).toBe(0);
    expect(await readRegistry(root)).toBe(await readFile(FIXTURE_REGISTRY, "utf8"));
    for (const path of GENERATED) expect(existsSync(join(root, path))).toBe(false);
  });

  test("--port auto skips a port a process listens on and says who holds it", async () => {
    const root = await shopRoot();
    const busy = await holdPortIn(21501, 21599);
    held.push(busy);
    const result = await runNew(
      ["--name", "shop-queue", "--stack", "data", "--protocol", "tcp", "--owner", "Data Team"].concat([
        "--description",
        "Job queue of the shop",
        "--no-container",
        "--dry-run",
      ]),
      root,
    );
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const port = Number(/^ {2}port: (\d+)$/m.exec(result.stdout)?.[1]);
    expect(port).toBeGreaterThan(busy.port);
    const explanation = result.stdout.split("\n")[0] ?? "";
    expect(explanation.startsWith(`new: ${port}: first free in data 21500-21599; `)).toBe(true);
    expect(explanation).toContain(`${busy.port} is in use by pid ${process.pid} (${ownCommand()})`);
  });

  test("--port naming a port in use is refused with the holder", async () => {
    const root = await shopRoot();
    const busy = await holdPortIn(21150, 21199);
    held.push(busy);
    const flags = CART_FLAGS.map((flag) => (flag === "21101" ? String(busy.port) : flag));
    const result = await runNew([...flags, "--yes"], root);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `new: --port "${busy.port}" is in use by pid ${process.pid} (${ownCommand()}) (tcp); if that is the service itself, already running, add --allow-in-use\n`,
    );
    expect(result.exitCode).toBe(2);
    expect(await readRegistry(root)).toBe(await readFile(FIXTURE_REGISTRY, "utf8"));
    // Registering the service that already listens there is what --allow-in-use is for.
    const adopted = await runNew([...flags, "--allow-in-use", "--yes"], root);
    expect(adopted.exitCode).toBe(0);
    expect(await readRegistry(root)).toContain(`port: ${busy.port}`);
  });

  test("without a terminal, missing answers are one usage error naming every flag, and nothing hangs", async () => {
    const root = await shopRoot();
    const result = await runNew(["--name", "shop-cart", "--container"], root);
    expect(result.isTimedOut).toBe(false);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "new: missing --stack, --protocol, --owner, --description, --network, --yes (or --dry-run): there is no terminal to ask on (see --help)\n",
    );
    expect(result.exitCode).toBe(2);
    // Whether it runs in a container has no silent default without a terminal.
    const unsaid = await runNew(["--name", "shop-cart"], root);
    expect(unsaid.stderr).toBe(
      "new: missing --stack, --protocol, --owner, --description, --container or --no-container, --yes (or --dry-run): there is no terminal to ask on (see --help)\n",
    );
  });

  test("a value the schema refuses is a usage error with the schema's message", async () => {
    const root = await shopRoot();
    const cases: [string, string, string][] = [
      [
        "--name",
        "Shop_Cart",
        'new: --name "Shop_Cart" must be lowercase kebab-case: a-z, 0-9 and single hyphens, starting with a letter',
      ],
      ["--name", "shop-api", 'new: --name "shop-api" is already registered'],
      // Asked with the name: the registry would refuse the variables it derives.
      [
        "--name",
        "docker",
        'new: --name "docker" derives DOCKER_HOST, which docker-compose reads from .env.shared and the docker CLI from the environment; rename the service (for example docker-engine)',
      ],
      ["--description", "short", 'new: --description "short" must be at least 10 characters'],
      ["--owner", "  ", 'new: --owner "  " must not be blank'],
      // A value that happens to be the message's first word is not taken for the value named twice.
      ["--description", "must", 'new: --description "must" must be at least 10 characters'],
      [
        "--description",
        "Order intake API   ",
        'new: --description "Order intake API   " must not start or end with a space',
      ],
      ["--port", "21500", 'new: --port "21500" must lie within web 21100-21199'],
      ["--port", "21102", 'new: --port "21102" is already registered to shop-api'],
      [
        "--health-endpoint",
        "/a b",
        `new: --health-endpoint "/a b" must be a URL path starting with '/' using only RFC 3986 characters (no spaces or quotes)`,
      ],
      ["--stack", "cache", 'new: --stack "cache" has no range; choose one of data, web'],
      ["--depends-on", "nope", 'new: --depends-on "nope" is not a registered service'],
      ["--health-expected", "99", 'new: --health-expected "99" must be an HTTP status 100-599'],
      [
        "--protocol",
        "smtp",
        'new: --protocol "smtp" must be one of http, https, grpc, ws, tcp, udp, postgres, mysql, mongodb, redis, rabbitmq',
      ],
    ];
    for (const [flag, value, message] of cases) {
      const index = CART_FLAGS.indexOf(flag);
      const flags = [...CART_FLAGS];
      if (index >= 0) flags[index + 1] = value;
      else flags.push(flag, value);
      const result = await runNew([...flags, "--yes"], root);
      expect({ flag, stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode }).toEqual({
        flag,
        stdout: "",
        stderr: `${message}\n`,
        exitCode: 2,
      });
    }
    expect(await readRegistry(root)).toBe(await readFile(FIXTURE_REGISTRY, "utf8"));
  });

  test("an entry the registry's rules refuse is reported with positions and writes nothing", async () => {
    const root = await shopRoot();
    // A new network shares nothing with shop-db, so the container could not reach it.
    const flags = CART_FLAGS.map((flag) => (flag === "shop_net" ? "cart_net" : flag));
    const result = await runNew([...flags, "--yes"], root);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      [
        "config/ports/registry.yaml:43:9 error network-isolated container shop-cart (cart_net) cannot reach shop-api (shop_net); add shop_net to the network of shop-cart",
        "config/ports/registry.yaml:44:9 error network-isolated container shop-cart (cart_net) cannot reach shop-db (shop_net); add shop_net to the network of shop-cart",
        "new: adding shop-cart would make config/ports/registry.yaml invalid; nothing was written",
        "",
      ].join("\n"),
    );
    expect(result.exitCode).toBe(1);
    expect(await readRegistry(root)).toBe(await readFile(FIXTURE_REGISTRY, "utf8"));
  });

  test("a registry without a networks: block gets no block: the other services' networks stay valid", async () => {
    const root = await shopRoot();
    const source = (await readRegistry(root)).replace(
      "networks:\n  shop_net:\n    description: The shop stack\n\n",
      "",
    );
    await Bun.write(join(root, REGISTRY), source);
    expect((await runTask("validate", ["--root", root])).exitCode).toBe(0);
    const result = await runNew([...CART_FLAGS, "--yes"], root);
    expect({ stderr: result.stderr, exitCode: result.exitCode }).toEqual({ stderr: "", exitCode: 0 });
    const written = await readRegistry(root);
    expect(written).not.toContain("networks:");
    expect(written).toContain("  network: shop_net\n");
  });

  test("a CRLF registry keeps CRLF in the lines added to it", async () => {
    const root = await shopRoot();
    await Bun.write(join(root, REGISTRY), (await readRegistry(root)).replaceAll("\n", "\r\n"));
    const result = await runNew([...CART_FLAGS, "--yes"], root);
    expect(result.exitCode).toBe(0);
    const written = await readRegistry(root);
    expect(written).toContain("- name: shop-cart\r\n");
    expect(written.replaceAll("\r\n", "")).not.toContain("\n");
  });

  test("flags that do not apply to the service are usage errors", async () => {
    const root = await shopRoot();
    const native = CART_FLAGS.map((flag) => (flag === "--container" ? "--no-container" : flag));
    expect(await runNew([...native, "--yes"], root)).toMatchObject({
      stdout: "",
      stderr: "new: --network applies to a container service; add --container\n",
      exitCode: 2,
    });
    const redis = CART_FLAGS.map((flag) => (flag === "http" ? "redis" : flag));
    expect(await runNew([...redis, "--yes"], root)).toMatchObject({
      stdout: "",
      stderr: "new: --health-endpoint applies to http and https services, not redis\n",
      exitCode: 2,
    });
    expect(await readRegistry(root)).toBe(await readFile(FIXTURE_REGISTRY, "utf8"));
  });

  test("--help prints usage and exits 0", async () => {
    const result = await runNew(["--help"], await shopRoot());
    expect(result.stdout.startsWith("Usage: bun tasks/new.ts [options]\n")).toBe(true);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
  });
});
