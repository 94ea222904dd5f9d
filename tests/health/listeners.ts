/**
 * Real loopback listeners for the health tests: HTTP servers with fixed answers, a TCP server
 * that accepts and says nothing, and a port that was free a moment ago (so it refuses).
 */
import { createServer, type Server } from "node:net";

export type Listeners = {
  ports: Record<string, number>;
  close: () => Promise<void>;
};

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
}

/** A TCP server that accepts connections and never writes: an HTTP request to it hangs. */
async function openSilentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  const port = await listen(server);
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound, then released. */
export async function findClosedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function openListeners(): Promise<Listeners> {
  const ok = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) =>
      new URL(request.url).pathname === "/health" ? new Response("ok") : new Response("no", { status: 404 }),
  });
  const teapot = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response("short and stout", { status: 418 }),
  });
  const broken = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response("down", { status: 503 }),
  });
  const silent = await openSilentServer();
  const tcp = await openSilentServer();
  const closed = await findClosedPort();
  return {
    ports: {
      "web-ok": ok.port as number,
      "web-teapot": teapot.port as number,
      "web-broken": broken.port as number,
      "web-silent": silent.port,
      "data-open": tcp.port,
      "data-closed": closed,
      "data-metrics": closed,
    },
    close: async () => {
      await Promise.all([ok.stop(true), teapot.stop(true), broken.stop(true), silent.close(), tcp.close()]);
    },
  };
}

/** `WEB_OK_PORT=…` lines for --env-file. */
export function renderEnvFile(ports: Record<string, number>): string {
  return Object.entries(ports)
    .map(([name, port]) => `${name.toUpperCase().replaceAll("-", "_")}_PORT=${port}\n`)
    .join("");
}
