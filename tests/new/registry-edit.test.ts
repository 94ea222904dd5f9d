import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { parseRegistry } from "../../lib/load.ts";
import {
  buildEntry,
  choosePlacement,
  insertService,
  type NewEntry,
  renderEntry,
} from "../../lib/registry-edit.ts";
import { validateParsed } from "../../lib/validate.ts";
import { FIXTURES } from "../core/support.ts";

const SHOP = readFileSync(join(FIXTURES, "new", "basic", "config", "ports", "registry.yaml"), "utf8");

const entry = (overrides: Partial<NewEntry> = {}): NewEntry =>
  buildEntry({
    name: "shop-cart",
    stack: "web",
    port: 21101,
    protocol: "http",
    owner: "Web Team",
    description: "Shopping cart service",
    container: false,
    ...overrides,
  });

/** The source with `block` inserted before the line that starts with `marker`. */
function insertBefore(source: string, marker: string, block: string): string {
  const index = source.indexOf(marker);
  if (index < 0) throw new Error(`marker ${marker} not found`);
  return source.slice(0, index) + block + source.slice(index);
}

describe("choosePlacement", () => {
  const services = [
    { stack: "web", port: 100 },
    { stack: "web", port: 102 },
    { stack: "data", port: 500 },
  ];
  test("after the last service of the stack with a lower port", () => {
    expect(choosePlacement(services, entry({ stack: "web", port: 101 }))).toEqual({
      index: 1,
      position: "after",
    });
    expect(choosePlacement(services, entry({ stack: "web", port: 150 }))).toEqual({
      index: 2,
      position: "after",
    });
  });
  test("before the first service of the stack when every port is higher", () => {
    expect(choosePlacement(services, entry({ stack: "data", port: 400 }))).toEqual({
      index: 2,
      position: "before",
    });
  });
  test("at the end for a stack with no services", () => {
    expect(choosePlacement(services, entry({ stack: "cache", port: 600 }))).toEqual({
      index: 3,
      position: "after",
    });
  });
});

describe("renderEntry", () => {
  test("quotes strings YAML 1.1 would read as something else and writes network lists in flow style", () => {
    expect(
      renderEntry(
        entry({ owner: "yes", description: "Runs at 22:22: nightly # batch", network: ["a_net", "b_net"] }),
      ),
    ).toBe(
      [
        "- name: shop-cart",
        "  stack: web",
        "  port: 21101",
        "  protocol: http",
        '  owner: "yes"',
        '  description: "Runs at 22:22: nightly # batch"',
        "  container: false",
        "  network: [a_net, b_net]",
        "",
      ].join("\n"),
    );
  });
});

describe("insertService", () => {
  test("splices the entry after its stack neighbour, leaving every other byte alone", () => {
    const result = insertService(SHOP, entry());
    const block = `${renderEntry(entry())
      .split("\n")
      .map((line) => (line ? `  ${line}` : line))
      .join("\n")}\n`;
    expect(result).toEqual({
      text: insertBefore(SHOP, "  - name: shop-api", block),
      index: 1,
      method: "splice",
    });
  });

  test("a comment indented inside the neighbour's block stays with it, above the new entry", () => {
    const noted = SHOP.replace(
      "      expected: 200\n\n  - name: shop-api",
      "      expected: 200\n    # shop-web: keep the healthcheck cheap\n\n  - name: shop-api",
    );
    expect(noted).not.toBe(SHOP);
    const result = insertService(noted, entry());
    expect(result.method).toBe("splice");
    expect(result.text).toContain(
      "      expected: 200\n    # shop-web: keep the healthcheck cheap\n\n  - name: shop-cart\n",
    );
  });

  test("a first service of its stack goes below the stack's heading comment", () => {
    const result = insertService(SHOP, entry({ name: "shop-search", stack: "data", port: 21499 }));
    expect(result.method).toBe("splice");
    const data = result.text.slice(result.text.indexOf("  # Data\n"));
    expect(data.startsWith("  # Data\n  - name: shop-search\n    stack: data\n    port: 21499\n")).toBe(true);
    expect(data).toContain("    container: false\n\n  - name: shop-db\n");
  });

  test("the last position keeps the file's blank-line rhythm and its trailing comment", () => {
    const result = insertService(SHOP, entry({ name: "shop-etl", stack: "data", port: 21501 }));
    expect(result.index).toBe(3);
    expect(result.text.startsWith(SHOP)).toBe(true);
    expect(result.text.slice(SHOP.length)).toBe(
      "\n  - name: shop-etl\n    stack: data\n    port: 21501\n    protocol: http\n    owner: Web Team\n    description: Shopping cart service\n    container: false\n",
    );
  });

  test("declares a new network after the last one and updates lastUpdated in place", () => {
    const added = entry({ container: true, network: "cart_net" });
    const result = insertService(SHOP, added, {
      newNetwork: { name: "cart_net", description: "Network of shop-cart" },
      today: "2026-01-31",
    });
    expect(result.method).toBe("splice");
    expect(result.text).toContain('lastUpdated: "2026-01-31"\n');
    expect(result.text).toContain(
      "  shop_net:\n    description: The shop stack\n  cart_net:\n    description: Network of shop-cart\n\nservices:\n",
    );
    expect(validateParsed(parseRegistry(result.text, "r.yaml")).diagnostics).toEqual([]);
  });

  test("a flow `services: []` is edited through the Document instead", () => {
    const source =
      'version: "1.0.0"\nlastUpdated: "2025-01-01"\nranges:\n  web: "21100-21199" # web\nservices: []\n';
    const result = insertService(source, entry());
    expect(result.method).toBe("document");
    expect(result.text).toBe(
      [
        'version: "1.0.0"',
        'lastUpdated: "2025-01-01"',
        "ranges:",
        '  web: "21100-21199" # web',
        "services:",
        "  - name: shop-cart",
        "    stack: web",
        "    port: 21101",
        "    protocol: http",
        "    owner: Web Team",
        "    description: Shopping cart service",
        "    container: false",
        "",
      ].join("\n"),
    );
    expect((parse(result.text) as { services: unknown[] }).services).toEqual([entry()]);
  });
});
