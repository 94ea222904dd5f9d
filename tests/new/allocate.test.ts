import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  checkPortChoice,
  describeStacks,
  inspectOccupancy,
  listOwners,
  parsePortText,
  suggestPort,
} from "../../lib/allocate.ts";
import { describeNoFreePort, stackUsage, usagePercent } from "../../lib/derive.ts";
import type { Listener } from "../../lib/listeners.ts";
import { parseRegistry } from "../../lib/load.ts";
import type { Registry } from "../../lib/schema.ts";
import { FIXTURES } from "../core/support.ts";

const parsed = parseRegistry(
  readFileSync(join(FIXTURES, "new", "basic", "config", "ports", "registry.yaml"), "utf8"),
  "r.yaml",
);
if (!parsed.registry) throw new Error("the shop fixture must be valid");
const shop: Registry = parsed.registry;

const listener = (port: number, extra: Partial<Listener> = {}): Listener => ({
  transport: "tcp",
  family: 4,
  address: "127.0.0.1",
  port,
  inode: port,
  isContainerProcess: false,
  ...extra,
});

describe("suggestPort", () => {
  test("the lowest unregistered port of the range when nothing listens", () => {
    expect(suggestPort(shop, "web", [])).toEqual({
      stack: "web",
      range: "21100-21199",
      port: 21101,
      explanation: "21101: first free in web 21100-21199",
    });
  });

  test("skips ports that are listening (TCP or UDP, v4 or v6) and names who holds them", () => {
    const listeners = [
      listener(21101, { pid: 812, command: "node" }),
      listener(21103, { transport: "udp", family: 6, address: "::" }),
      listener(21103, { transport: "udp", family: 4, address: "0.0.0.0", pid: 9, command: "dnsmasq" }),
    ];
    expect(suggestPort(shop, "web", listeners)).toEqual({
      stack: "web",
      range: "21100-21199",
      port: 21104,
      explanation:
        "21104: first free in web 21100-21199; 21101 is in use by pid 812 (node); 21103 is in use by pid 9 (dnsmasq)",
    });
  });

  test("never suggests an ephemeral port, and says when a range is full", () => {
    const registry: Registry = { ...shop, ranges: { ...shop.ranges, high: "32766-32770" } };
    expect(suggestPort(registry, "high", [listener(32766)])).toEqual({
      stack: "high",
      range: "32766-32770",
      port: 32767,
      explanation: "32767: first free in high 32766-32770; 32766 is in use by a process we cannot inspect",
    });
    expect(suggestPort(registry, "high", [listener(32766), listener(32767)])).toEqual({
      stack: "high",
      range: "32766-32770",
      explanation: "no free port in high 32766-32770 (0 registered, 2 in use, 3 ephemeral)",
    });
  });
});

describe("checkPortChoice", () => {
  test("accepts a free port of the range and explains every refusal", () => {
    expect(checkPortChoice(shop, "web", 21150, [])).toBeUndefined();
    expect(checkPortChoice(shop, "web", 80, [])).toBe("must be between 1024 and 65535");
    expect(checkPortChoice(shop, "web", 21500, [])).toBe("must lie within web 21100-21199");
    expect(checkPortChoice(shop, "web", 21102, [])).toBe("21102 is already registered to shop-api");
    expect(
      checkPortChoice(shop, "web", 21150, [listener(21150, { family: 6, pid: 3, command: "python3" })]),
    ).toBe(
      "21150 is in use by pid 3 (python3) (tcp6); if that is the service itself, already running, add --allow-in-use",
    );
    expect(
      checkPortChoice(shop, "web", 21150, [listener(21150, { pid: 3, command: "python3" })], {
        allowInUse: true,
      }),
    ).toBeUndefined();
  });

  test("use in percent is 100 only when full and 0 only when empty; no free port says why", () => {
    expect([
      usagePercent(0, 200),
      usagePercent(1, 2300),
      usagePercent(199, 200),
      usagePercent(200, 200),
    ]).toEqual([0, 1, 99, 100]);
    expect([describeNoFreePort({ free: 0 }), describeNoFreePort({ free: 3 })]).toEqual([
      "full",
      "none outside the ephemeral range",
    ]);
  });

  test("the gateway's port counts as taken in the report's free ports, and is no unknown listener to doctor", () => {
    const gated: Registry = { ...shop, gatewayUrl: "http://localhost:21101" };
    const web = (registry: Registry) => stackUsage(registry).find((usage) => usage.stack === "web");
    expect(web(shop)?.nextFree[0]).toBe(21101);
    expect(web(gated)?.nextFree[0]).toBe(21103);
    expect((web(shop)?.free ?? 0) - (web(gated)?.free ?? 0)).toBe(1);
    const listener = {
      transport: "tcp",
      family: 4,
      address: "127.0.0.1",
      port: 21101,
      inode: 1,
      isContainerProcess: false,
    } as const;
    expect(inspectOccupancy(shop, [listener]).unknown).toHaveLength(1);
    expect(inspectOccupancy(gated, [listener]).unknown).toEqual([]);
  });

  test("the gateway's port is never handed out; the ephemeral range only while its rule is on", () => {
    const gated: Registry = { ...shop, gatewayUrl: "http://localhost:21104" };
    expect(checkPortChoice(gated, "web", 21104, [])).toBe(
      "21104 is the gateway's port (gatewayUrl http://localhost:21104)",
    );
    const wide: Registry = { ...shop, ranges: { ...shop.ranges, web: "21100-21104" } };
    const gatedWide: Registry = { ...wide, gatewayUrl: "http://localhost:21100" };
    expect(suggestPort(gatedWide, "web", []).port).not.toBe(21100);
    const high: Registry = { ...shop, ranges: { ...shop.ranges, high: "40000-40009" } };
    expect(checkPortChoice(high, "high", 40001, [])).toContain("ephemeral range");
    expect(
      checkPortChoice({ ...high, rules: { "port-ephemeral": "off" } }, "high", 40001, []),
    ).toBeUndefined();
  });
});

describe("parsePortText", () => {
  test("auto, empty, a number, or nothing valid", () => {
    expect([
      parsePortText("auto"),
      parsePortText(" "),
      parsePortText("21101"),
      parsePortText("21O1"),
    ]).toEqual(["auto", "auto", 21101, undefined]);
  });
});

describe("describeStacks and listOwners", () => {
  test("stacks with their range fill, owners most frequent first", () => {
    expect(describeStacks(shop)).toEqual([
      { stack: "data", hint: "21500-21599 · 1 used, 99 free" },
      { stack: "web", hint: "21100-21199 · 2 used, 98 free" },
    ]);
    expect(listOwners(shop)).toEqual(["Web Team", "Data Team"]);
  });
});
