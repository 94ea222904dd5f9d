/**
 * The interactive wizard through a real pseudo-terminal (tmux): answers every prompt, checks that
 * validation speaks up as the person types, and that Ctrl-C or a registry edited meanwhile writes
 * nothing.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { copyFixture, FIXTURES, removeDir } from "../core/support.ts";
import { openTerminal, type Terminal, todayUtc } from "./support.ts";

const FIXTURE_REGISTRY = join(FIXTURES, "new", "basic", "config", "ports", "registry.yaml");
const REGISTRY = join("config", "ports", "registry.yaml");

let roots: string[] = [];
let terminals: Terminal[] = [];
afterEach(async () => {
  for (const terminal of terminals) terminal.close();
  await Promise.all(roots.map((root) => removeDir(root)));
  roots = [];
  terminals = [];
});

async function start(args: string[] = []): Promise<{ root: string; terminal: Terminal }> {
  const root = await copyFixture("new/basic");
  roots.push(root);
  const terminal = openTerminal(args, root, join(root, ".exit-status"));
  terminals.push(terminal);
  return { root, terminal };
}

type Service = Record<string, unknown> & { name: string; port: number };

/** The answers of a shop-cart entry given as flags, plus `extra`: the prompts left are the ones tested. */
function cartFlags(...extra: string[]): string[] {
  return [
    ...["--name", "shop-cart", "--stack", "web", "--port", "auto", "--protocol", "http"],
    ...["--owner", "Web Team", "--description", "Cart service of the shop"],
    ...extra,
  ];
}

describe("ports:new in a terminal", () => {
  test("answers every prompt, validates while typing, writes the entry and syncs", async () => {
    const { root, terminal } = await start();

    await terminal.waitFor("Service name");
    terminal.type("shop-api");
    terminal.press("Enter");
    await terminal.waitFor("shop-api is already registered");
    terminal.press(...Array<string>(8).fill("BSpace"));
    terminal.type("docker");
    terminal.press("Enter");
    await terminal.waitFor("docker derives DOCKER_HOST");
    terminal.press(...Array<string>(6).fill("BSpace"));
    terminal.type("shop-cart");
    terminal.press("Enter");

    await terminal.waitFor("Stack");
    terminal.press("Down", "Enter"); // data, web
    const screen = await terminal.waitFor(/(\d+): first free in web 21100-21199/);
    const suggested = Number(/(\d+): first free in web 21100-21199/.exec(screen)?.[1]);
    await terminal.waitFor("Port");
    terminal.press("Enter");

    await terminal.waitFor("Protocol");
    terminal.press("Enter"); // http
    await terminal.waitFor("Owner");
    terminal.press("Enter"); // Web Team, the most frequent owner

    await terminal.waitFor("Description (10-200 characters)");
    terminal.type("Cart");
    terminal.press("Enter");
    await terminal.waitFor("must be at least 10 characters");
    terminal.type(" service of the shop");
    terminal.press("Enter");

    await terminal.waitFor("Does it run in a container?");
    terminal.press("Enter"); // Yes
    await terminal.waitFor("Networks");
    terminal.press("Enter"); // none selected yet: one is required
    await terminal.waitFor(/Please select at least one|select at least one/i);
    terminal.press("Space", "Enter"); // [shop_net]
    await terminal.waitFor("Depends on");
    terminal.press("Down", "Space", "Enter"); // shop-web, [shop-api], shop-db
    await terminal.waitFor("Healthcheck endpoint");
    terminal.type("/health");
    terminal.press("Enter");
    await terminal.waitFor("Expected HTTP status");
    terminal.press("Enter"); // 200

    await terminal.waitFor("New entry for config/ports/registry.yaml");
    await terminal.waitFor("and run sync?");
    terminal.press("Enter");

    expect(await terminal.waitForExit()).toBe(0);
    const final = terminal.screen();
    expect(final).toContain(`wrote shop-cart (port ${suggested}) to config/ports/registry.yaml`);
    expect(final).toContain("sync: 7 of 7 generated files updated");
    expect(final).toContain(`shop-cart is registered on port ${suggested}`);

    const written = await readFile(join(root, REGISTRY), "utf8");
    const registry = parse(written) as { lastUpdated: string; services: Service[] };
    expect(registry.lastUpdated).toBe(todayUtc());
    expect(registry.services.find((service) => service.name === "shop-cart")).toEqual({
      name: "shop-cart",
      stack: "web",
      port: suggested,
      protocol: "http",
      owner: "Web Team",
      description: "Cart service of the shop",
      container: true,
      network: "shop_net",
      depends_on: ["shop-api"],
      healthcheck: { endpoint: "/health", expected: 200 },
    });
    for (const comment of (await readFile(FIXTURE_REGISTRY, "utf8"))
      .split("\n")
      .filter((line) => line.includes("#"))) {
      expect(written).toContain(comment);
    }
    expect(await readFile(join(root, ".env.shared"), "utf8")).toContain(`SHOP_CART_PORT=${suggested}\n`);
  }, 90_000);

  test("a new network is declared, and a dependency it cannot reach is refused by the registry's rules", async () => {
    const flags = cartFlags("--container");
    const { root, terminal } = await start(flags);
    await terminal.waitFor("Networks");
    terminal.press("Down", "Space", "Enter"); // shop_net, [a new network…]
    await terminal.waitFor("New network name");
    terminal.type("shop_net");
    terminal.press("Enter");
    await terminal.waitFor("shop_net already exists; pick it from the list");
    terminal.press("BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace");
    terminal.type("cart_net");
    terminal.press("Enter");

    await terminal.waitFor("Depends on");
    terminal.press("Down", "Space", "Enter"); // shop-web, [shop-api], shop-db
    await terminal.waitFor(
      "container shop-cart (cart_net) cannot reach shop-api (shop_net); add shop_net to the network of shop-cart",
    );
    await terminal.waitFor("◼ shop-api");
    terminal.press("Down", "Space", "Enter"); // the cursor starts on shop-web again
    await terminal.waitFor("Healthcheck endpoint");
    terminal.press("Enter"); // none
    await terminal.waitFor("and run sync?");
    terminal.press("Enter");

    expect(await terminal.waitForExit()).toBe(0);
    const registry = parse(await readFile(join(root, REGISTRY), "utf8")) as {
      networks: Record<string, unknown>;
      services: Service[];
    };
    expect(registry.networks).toEqual({
      shop_net: { description: "The shop stack" },
      cart_net: { description: "Network of shop-cart" },
    });
    const cart = registry.services.find((service) => service.name === "shop-cart");
    expect(cart).toEqual({
      name: "shop-cart",
      stack: "web",
      port: cart?.port as number,
      protocol: "http",
      owner: "Web Team",
      description: "Cart service of the shop",
      container: true,
      network: "cart_net",
    });
    expect(cart?.port).toBeGreaterThanOrEqual(21101);
    expect(cart?.port).toBeLessThanOrEqual(21199);
    expect(terminal.screen()).toContain("declared network cart_net");
  }, 90_000);

  test("several networks can be picked, an existing one and a new one", async () => {
    const flags = cartFlags("--container", "--depends-on", "shop-api", "--health-endpoint", "", "--yes");
    const { root, terminal } = await start(flags);
    await terminal.waitFor("Networks");
    terminal.press("Space", "Down", "Space", "Enter"); // [shop_net], [a new network…]
    await terminal.waitFor("New network name");
    terminal.type("cart_net");
    terminal.press("Enter");
    expect(await terminal.waitForExit()).toBe(0);
    const registry = parse(await readFile(join(root, REGISTRY), "utf8")) as { services: Service[] };
    const cart = registry.services.find((service) => service.name === "shop-cart");
    expect(cart?.network).toEqual(["shop_net", "cart_net"]);
    expect(cart?.depends_on).toEqual(["shop-api"]);
  }, 90_000);

  test("a dry run in a terminal closes its frame and writes nothing", async () => {
    const flags = cartFlags("--no-container", "--depends-on", "", "--health-endpoint", "", "--dry-run");
    const { root, terminal } = await start(flags);
    expect(await terminal.waitForExit()).toBe(0);
    expect(terminal.screen()).toContain("└  dry run: nothing was written");
    expect(await readFile(join(root, REGISTRY), "utf8")).toBe(await readFile(FIXTURE_REGISTRY, "utf8"));
  }, 90_000);

  test("Ctrl-C at a prompt exits 130 and writes nothing", async () => {
    const { root, terminal } = await start();
    await terminal.waitFor("Service name");
    terminal.type("shop-cart");
    terminal.press("Enter");
    await terminal.waitFor("Stack");
    terminal.press("C-c");

    expect(await terminal.waitForExit()).toBe(130);
    expect(terminal.screen()).toContain("Cancelled: nothing was written");
    expect(await readFile(join(root, REGISTRY), "utf8")).toBe(await readFile(FIXTURE_REGISTRY, "utf8"));
    expect(existsSync(join(root, ".env.shared"))).toBe(false);
  }, 60_000);

  test.each([
    ["Service name", []],
    ["Stack", ["shop-cart"]],
  ])(
    "Ctrl-D (end of input) at %s exits 130, writes nothing and shows the cursor again",
    async (prompt, typed) => {
      const { root, terminal } = await start();
      await terminal.waitFor("Service name");
      for (const text of typed) {
        terminal.type(text);
        terminal.press("Enter");
      }
      await terminal.waitFor(prompt);
      expect(terminal.isCursorVisible()).toBe(false);
      terminal.press("C-d");

      expect(await terminal.waitForExit()).toBe(130);
      expect(terminal.screen()).toContain("Cancelled: nothing was written");
      expect(terminal.isCursorVisible()).toBe(true);
      expect(await readFile(join(root, REGISTRY), "utf8")).toBe(await readFile(FIXTURE_REGISTRY, "utf8"));
    },
    60_000,
  );

  test("a registry edited while the wizard waits is not overwritten", async () => {
    const flags = cartFlags("--no-container", "--depends-on", "", "--health-endpoint", "");
    const { root, terminal } = await start(flags);
    await terminal.waitFor("and run sync?");
    await appendFile(join(root, REGISTRY), "# edited by someone else\n");
    terminal.press("Enter");

    expect(await terminal.waitForExit()).toBe(2);
    expect(terminal.screen()).toContain(
      "new: config/ports/registry.yaml changed on disk while ports:new was open; nothing was written, run it again",
    );
    expect(await readFile(join(root, REGISTRY), "utf8")).toBe(
      `${await readFile(FIXTURE_REGISTRY, "utf8")}# edited by someone else\n`,
    );
    expect(existsSync(join(root, ".env.shared"))).toBe(false);
  }, 60_000);
});
