/**
 * Real sockets for the doctor and wizard tests: a TCP listener on a loopback port inside a given
 * range, held by this test process, so /proc names our own pid as its owner.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";

export type HeldPort = { port: number; close: () => Promise<void> };

function tryListen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => resolve(server));
  });
}

/** Listens on the lowest port of `min..max` that is free now and not in `skip`. */
export async function holdPortIn(min: number, max: number, skip: readonly number[] = []): Promise<HeldPort> {
  for (let port = min; port <= max; port++) {
    if (skip.includes(port)) continue;
    const server = await tryListen(port);
    if (server) {
      return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
    }
  }
  throw new Error(`no free loopback port in ${min}-${max}`);
}

/** The command name /proc shows for this test process (what the tools should report). */
export function ownCommand(): string {
  return readFileSync("/proc/self/comm", "utf8").trim();
}
