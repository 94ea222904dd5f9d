/**
 * What is listening on this machine right now, read from Linux's `/proc`.
 *
 * `/proc/net/{tcp,tcp6,udp,udp6}` list the sockets of this network namespace with their inode;
 * `/proc/<pid>/fd/*` links (`socket:[inode]`) name the process that holds each one. Sockets of
 * processes we may not inspect (another user's, without root) keep an unknown owner.
 *
 * The parsers are pure; `readListeners` is the only function that touches the disk.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { compareCodeUnits } from "./derive.ts";

export type Transport = "tcp" | "udp";

export type Listener = {
  transport: Transport;
  family: 4 | 6;
  address: string;
  port: number;
  inode: number;
  /** The owning process, when its file descriptors are readable. */
  pid?: number;
  command?: string;
  /** True when the owner is a container runtime's port forwarder or a process inside a container. */
  isContainerProcess: boolean;
};

export type Socket = Omit<Listener, "pid" | "command" | "isContainerProcess">;

/** `st` column: TCP_LISTEN for TCP; for UDP an unconnected bound socket is TCP_CLOSE (07). */
const LISTEN_STATE: Record<Transport, string> = { tcp: "0A", udp: "07" };

export const PROC_NET_FILES = [
  { file: "tcp", transport: "tcp", family: 4 },
  { file: "tcp6", transport: "tcp", family: 6 },
  { file: "udp", transport: "udp", family: 4 },
  { file: "udp6", transport: "udp", family: 6 },
] as const;

/** Parses one `/proc/net/{tcp,udp}[6]` table and keeps the listening (TCP) or bound (UDP) sockets. */
export function parseProcNet(text: string, transport: Transport, family: 4 | 6): Socket[] {
  const sockets: Socket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [local, , state] = [fields[1] ?? "", fields[2] ?? "", fields[3] ?? ""];
    if (state !== LISTEN_STATE[transport]) continue;
    const [addressHex, portHex] = local.split(":");
    if (!addressHex || !portHex) continue;
    const port = Number.parseInt(portHex, 16);
    const inode = Number(fields[9]);
    if (!Number.isInteger(port) || port === 0 || !Number.isInteger(inode)) continue;
    sockets.push({ transport, family, address: decodeAddress(addressHex), port, inode });
  }
  return sockets;
}

/** The kernel prints addresses as 32-bit words in host (little-endian) byte order. */
export function decodeAddress(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length / 8; word++) {
    const chunk = hex.slice(word * 8, word * 8 + 8);
    for (let index = 3; index >= 0; index--)
      bytes.push(Number.parseInt(chunk.slice(index * 2, index * 2 + 2), 16));
  }
  if (bytes.length === 4) return bytes.join(".");
  const groups: number[] = [];
  for (let index = 0; index < 16; index += 2)
    groups.push(((bytes[index] ?? 0) << 8) | (bytes[index + 1] ?? 0));
  return formatIpv6(groups);
}

function formatIpv6(groups: number[]): string {
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    const low = (groups[6] ?? 0) * 65536 + (groups[7] ?? 0);
    return `::ffff:${[low >>> 24, (low >>> 16) & 255, (low >>> 8) & 255, low & 255].join(".")}`;
  }
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < 8; ) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength && end - start > 1) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const text = groups.map((group) => group.toString(16));
  if (bestStart < 0) return text.join(":");
  return `${text.slice(0, bestStart).join(":")}::${text.slice(bestStart + bestLength).join(":")}`;
}

/**
 * Port forwarders that publish a container's port on the host: Docker's userland proxy, rootless
 * Docker and Podman's port handlers, and Podman's user-mode network stacks.
 */
export const CONTAINER_FORWARDERS = [
  "docker-proxy",
  "rootlesskit",
  "rootlessport",
  "slirp4netns",
  "pasta",
  "conmon",
];

/** A cgroup path that names a container: Docker, containerd, CRI-O, Podman (libpod) or Kubernetes. */
const CONTAINER_CGROUP = /(?:docker|libpod|containerd|crio|cri-containerd|kubepods)[-/][^\n]*?[0-9a-f]{12,}/;

/**
 * Decides whether a socket's owner belongs to a container. A published port normally shows up as
 * a forwarder process (docker-proxy and friends); a host-network container shows up as a process
 * whose cgroup names a container. When the doctor itself runs inside a container, processes that
 * share its cgroup are its neighbours, not containers.
 */
export function isContainerOwner(
  command: string | undefined,
  cgroup: string | undefined,
  ownCgroup: string | undefined,
): boolean {
  if (command && (CONTAINER_FORWARDERS.includes(command) || command.startsWith("containerd-shim")))
    return true;
  if (!cgroup || !CONTAINER_CGROUP.test(cgroup)) return false;
  return cgroup !== ownCgroup;
}

type Owner = { pid: number; command?: string; cgroup?: string };

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Maps socket inodes to the first process holding them; stops once every wanted inode is found. */
function findOwners(procRoot: string, wanted: Set<number>): Map<number, Owner> {
  const owners = new Map<number, Owner>();
  if (wanted.size === 0) return owners;
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((entry) => /^\d+$/.test(entry));
  } catch {
    return owners;
  }
  pids.sort((a, b) => Number(a) - Number(b));
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(join(procRoot, pid, "fd"));
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(join(procRoot, pid, "fd", fd));
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (!match) continue;
      const inode = Number(match[1]);
      if (!wanted.has(inode) || owners.has(inode)) continue;
      owners.set(inode, {
        pid: Number(pid),
        command: readText(join(procRoot, pid, "comm"))?.trim(),
        cgroup: readText(join(procRoot, pid, "cgroup")),
      });
    }
    if (owners.size === wanted.size) break;
  }
  return owners;
}

/**
 * Every listening TCP socket and bound UDP socket of this network namespace, IPv4 and IPv6, with
 * its owning process where readable. Sorted by port, transport, family and address.
 */
export function readListeners(procRoot = "/proc"): Listener[] {
  const sockets: Socket[] = [];
  for (const { file, transport, family } of PROC_NET_FILES) {
    const text = readText(join(procRoot, "net", file));
    if (text !== undefined) sockets.push(...parseProcNet(text, transport, family));
  }
  const owners = findOwners(procRoot, new Set(sockets.map((socket) => socket.inode)));
  const ownCgroup = readText(join(procRoot, "self", "cgroup"));
  return sockets
    .map((socket): Listener => {
      const owner = owners.get(socket.inode);
      const listener: Listener = {
        ...socket,
        isContainerProcess: isContainerOwner(owner?.command, owner?.cgroup, ownCgroup),
      };
      if (owner) {
        listener.pid = owner.pid;
        if (owner.command) listener.command = owner.command;
      }
      return listener;
    })
    .sort(
      (a, b) =>
        a.port - b.port ||
        compareCodeUnits(a.transport, b.transport) ||
        a.family - b.family ||
        compareCodeUnits(a.address, b.address),
    );
}

/** `pid 812 (node)`, `pid 812`, or a note that the owner is not readable. */
export function describeOwner(listener: Pick<Listener, "pid" | "command">): string {
  if (listener.pid === undefined) return "a process we cannot inspect";
  return listener.command ? `pid ${listener.pid} (${listener.command})` : `pid ${listener.pid}`;
}
