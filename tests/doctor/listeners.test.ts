import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inspectOccupancy } from "../../lib/allocate.ts";
import {
  decodeAddress,
  isContainerOwner,
  type Listener,
  parseProcNet,
  readListeners,
} from "../../lib/listeners.ts";
import { parseRegistry } from "../../lib/load.ts";
import { FIXTURES } from "../core/support.ts";
import { holdPortIn, ownCommand } from "./support.ts";

const PROC_NET = join(FIXTURES, "doctor", "proc-net");
const read = (name: string) => readFileSync(join(PROC_NET, name), "utf8");

describe("parseProcNet on tables captured from a real kernel", () => {
  test("keeps listening TCP sockets and drops established connections", () => {
    expect(parseProcNet(read("tcp"), "tcp", 4)).toEqual([
      { transport: "tcp", family: 4, address: "127.0.0.1", port: 21792, inode: 19985 },
      { transport: "tcp", family: 4, address: "0.0.0.0", port: 2024, inode: 1151 },
    ]);
  });

  test("decodes IPv6 addresses word by word", () => {
    expect(parseProcNet(read("tcp6"), "tcp", 6)).toEqual([
      { transport: "tcp", family: 6, address: "::1", port: 21790, inode: 19983 },
      { transport: "tcp", family: 6, address: "::", port: 21791, inode: 19984 },
      { transport: "tcp", family: 6, address: "::", port: 45123, inode: 19720 },
    ]);
  });

  test("keeps bound UDP sockets, including IPv4-mapped IPv6 ones", () => {
    expect(parseProcNet(read("udp"), "udp", 4)).toEqual([
      { transport: "udp", family: 4, address: "0.0.0.0", port: 21793, inode: 19986 },
    ]);
    expect(parseProcNet(read("udp6"), "udp", 6)).toEqual([
      { transport: "udp", family: 6, address: "::ffff:127.0.0.1", port: 21794, inode: 19987 },
    ]);
  });

  test("decodeAddress handles a full IPv6 address without a zero run", () => {
    expect(decodeAddress("B80D0120000000000000000001000000")).toBe("2001:db8::1");
    expect(decodeAddress("B80D0120020001000400030006000500")).toBe("2001:db8:1:2:3:4:5:6");
  });
});

describe("isContainerOwner", () => {
  test("port forwarders of Docker and Podman count as containers", () => {
    for (const command of [
      "docker-proxy",
      "rootlesskit",
      "rootlessport",
      "slirp4netns",
      "pasta",
      "conmon",
      "containerd-shim-runc-v2",
    ]) {
      expect(isContainerOwner(command, "0::/\n", "0::/\n")).toBe(true);
    }
  });

  test("a process in a container's cgroup counts, unless it shares the doctor's own cgroup", () => {
    const docker = "0::/system.slice/docker-0123456789abcdef0123456789abcdef.scope\n";
    expect(isContainerOwner("redis-server", docker, "0::/user.slice\n")).toBe(true);
    expect(isContainerOwner("redis-server", docker, docker)).toBe(false);
    expect(isContainerOwner("node", "0::/user.slice/user-1000.slice\n", "0::/\n")).toBe(false);
    expect(isContainerOwner(undefined, undefined, undefined)).toBe(false);
  });
});

describe("readListeners on this machine", () => {
  test("finds a socket this test holds, with our pid and command", async () => {
    const held = await holdPortIn(21750, 21799);
    try {
      const mine = readListeners().filter((listener) => listener.port === held.port);
      expect(mine).toEqual([
        {
          transport: "tcp",
          family: 4,
          address: "127.0.0.1",
          port: held.port,
          inode: mine[0]?.inode as number,
          pid: process.pid,
          command: ownCommand(),
          isContainerProcess: false,
        },
      ]);
      expect(mine[0]?.inode).toBeGreaterThan(0);
    } finally {
      await held.close();
    }
  });
});

describe("inspectOccupancy", () => {
  const registry = parseRegistry(
    readFileSync(join(FIXTURES, "doctor", "lab", "config", "ports", "registry.yaml"), "utf8"),
    "r.yaml",
  ).registry;
  if (!registry) throw new Error("the lab fixture must be valid");
  const listener = (port: number, extra: Partial<Listener> = {}): Listener => ({
    transport: "tcp",
    family: 4,
    address: "0.0.0.0",
    port,
    inode: port,
    isContainerProcess: false,
    ...extra,
  });

  test("a docker-proxy on a container service's port is in use but not a conflict", () => {
    const occupancy = inspectOccupancy(registry, [
      listener(21710, { pid: 7, command: "docker-proxy", isContainerProcess: true }),
    ]);
    expect(occupancy).toEqual({
      inUse: [
        {
          service: "lab-cache",
          stack: "lab",
          port: 21710,
          isContainer: true,
          holders: [
            {
              transport: "tcp",
              family: 4,
              address: "0.0.0.0",
              pid: 7,
              command: "docker-proxy",
              isContainerProcess: true,
            },
          ],
        },
      ],
      unknown: [],
      containerPortsTaken: [],
    });
  });

  test("a host process on the port of an internal container takes nothing from it: that port is never published", () => {
    if (!registry) throw new Error("the lab fixture must be valid");
    const internal = {
      ...registry,
      services: registry.services.map((service) =>
        service.name === "lab-cache" ? { ...service, exposure: "internal" as const } : service,
      ),
    };
    const holder = listener(21710, { pid: 8, command: "python3" });
    expect(inspectOccupancy(registry, [holder]).containerPortsTaken).toHaveLength(1);
    expect(inspectOccupancy(internal, [holder]).containerPortsTaken).toEqual([]);
  });

  test("a UDP socket does not hold a TCP service's port; ports outside every range are ignored", () => {
    const occupancy = inspectOccupancy(registry, [
      listener(21710, { transport: "udp", pid: 9, command: "dnsmasq" }),
      listener(22000, { pid: 9, command: "sshd" }),
    ]);
    expect(occupancy).toEqual({ inUse: [], unknown: [], containerPortsTaken: [] });
  });

  test("an owner we cannot read is reported but never called a non-container process", () => {
    const occupancy = inspectOccupancy(registry, [
      listener(21710),
      listener(21720, { family: 6, address: "::" }),
    ]);
    expect(occupancy).toEqual({
      inUse: [
        {
          service: "lab-cache",
          stack: "lab",
          port: 21710,
          isContainer: true,
          holders: [{ transport: "tcp", family: 4, address: "0.0.0.0", isContainerProcess: false }],
        },
      ],
      unknown: [
        {
          port: 21720,
          stack: "lab",
          range: "21700-21799",
          holders: [{ transport: "tcp", family: 6, address: "::", isContainerProcess: false }],
        },
      ],
      containerPortsTaken: [],
    });
  });
});
