/**
 * Health checks of registered services, the native companion of the generated
 * `scripts/maintenance/ports-health.sh`.
 *
 * `planHealthTargets` is pure: registry and options in, one target per service out (an HTTP GET
 * with its expected status for http/https, a TCP connect otherwise, a skip for udp).
 * `checkHealth` runs the targets concurrently, each under its own timeout, and never throws for
 * an unhealthy service: every outcome is a value.
 */
import { readFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { deriveEnvNames, endpointOf, HTTP_PROTOCOLS, servicesOfStack, sortedStacks } from "./derive.ts";
import { ConfigError, IoError, UsageError } from "./errors.ts";
import type { Protocol, Registry } from "./schema.ts";

export const DEFAULT_TIMEOUT_MS = 3000;
export const DEFAULT_CONCURRENCY = 16;

export type HealthProbe =
  | { kind: "http"; url: string; expected: number }
  | { kind: "tcp"; host: string; port: number }
  | { kind: "skip"; reason: string };

export type HealthTarget = {
  service: string;
  stack: string;
  protocol: Protocol;
  host: string;
  port: number;
  probe: HealthProbe;
};

export type HealthStatus = "healthy" | "unhealthy" | "skipped";

export type HealthResult = {
  service: string;
  stack: string;
  /** What was probed: the URL for HTTP, `tcp://host:port` otherwise. */
  target: string;
  status: HealthStatus;
  /** `HTTP 200`, `open`, `connection refused`, `timed out after 3000 ms`, … */
  detail: string;
  ms: number;
};

export type PlanOptions = {
  /** Only this stack. */
  stack?: string;
  /** Only these services (after the stack filter). */
  services?: readonly string[];
  /** Host for every check instead of `localhost`. */
  host?: string;
  /** Published ports by env name (`TELEGRAM_MTPROTO_PORT=…`), for example from `.env.shared`. */
  env?: Readonly<Record<string, string>>;
};

/** One target per service in stack order (then port order), filtered and with ports from `env`. */
export function planHealthTargets(registry: Registry, options: PlanOptions = {}): HealthTarget[] {
  const stacks = sortedStacks(registry);
  if (options.stack !== undefined && !stacks.includes(options.stack)) {
    throw new UsageError(`--stack: unknown stack "${options.stack}"; known: ${stacks.join(", ")}`);
  }
  const services = stacks
    .filter((stack) => options.stack === undefined || stack === options.stack)
    .flatMap((stack) => servicesOfStack(registry, stack));
  // As the generated health script says: a filter that matches nothing checks nothing, an error.
  if (options.stack !== undefined && services.length === 0) {
    throw new UsageError(`--stack: no service matches stack "${options.stack}"`);
  }
  const wanted = options.services ?? [];
  for (const name of wanted) {
    if (!services.some((service) => service.name === name)) {
      const where = options.stack === undefined ? "the registry" : `stack ${options.stack}`;
      throw new UsageError(`--service: "${name}" is not a service of ${where}`);
    }
  }
  return services
    .filter((service) => wanted.length === 0 || wanted.includes(service.name))
    .map((service): HealthTarget => {
      const portName = deriveEnvNames(service).port;
      const portValue = options.env?.[portName];
      const port = portValue === undefined ? service.port : parsePortValue(portName, portValue);
      const host = options.host ?? endpointOf(service, "host").host;
      const urlHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
      let probe: HealthProbe;
      if (HTTP_PROTOCOLS.includes(service.protocol)) {
        const path = service.healthcheck?.endpoint ?? "/";
        probe = {
          kind: "http",
          url: `${service.protocol}://${urlHost}:${port}${path}`,
          expected: service.healthcheck?.expected ?? 200,
        };
      } else if (service.protocol === "udp") {
        probe = { kind: "skip", reason: "udp has no connection to probe" };
      } else {
        probe = { kind: "tcp", host, port };
      }
      if (service.exposure === "internal" && probe.kind !== "skip") {
        probe = { kind: "skip", reason: "exposure internal: not published on the host" };
      }
      return { service: service.name, stack: service.stack, protocol: service.protocol, host, port, probe };
    });
}

function parsePortValue(name: string, value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`${name}="${value}" in the env file is not a port number`);
  }
  return port;
}

/**
 * Env-file text as Compose's `env_file` reads it: `KEY=VALUE` lines (an `export ` before the key is
 * allowed), `#` comments, blank lines and a ` #` comment after an unquoted value ignored, one pair
 * of surrounding single or double quotes removed. Later keys win.
 */
export function parseEnvText(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim().replace(/^export\s+/, "");
    if (line === "" || line.startsWith("#")) continue;
    const equals = line.indexOf("=");
    if (equals <= 0) continue;
    const key = line.slice(0, equals).trim();
    let value = line.slice(equals + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) {
      value = value.slice(1, -1);
    } else if (value[0] !== '"' && value[0] !== "'") {
      const comment = value.search(/\s#/);
      if (comment >= 0) value = value.slice(0, comment).trimEnd();
    }
    Object.defineProperty(values, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return values;
}

/** Reads an env file (`.env.shared` or a copy with other ports) for `PlanOptions.env`. */
export async function readEnvFile(path: string, displayPath = path): Promise<Record<string, string>> {
  try {
    return parseEnvText(await readFile(path, "utf8"));
  } catch (error) {
    throw new IoError(
      `${displayPath}: cannot read the env file (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

export function targetLabel(target: HealthTarget): string {
  switch (target.probe.kind) {
    case "http":
      return target.probe.url;
    case "tcp":
      return `tcp://${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}`;
    case "skip":
      return `${target.protocol}://${target.host}:${target.port}`;
  }
}

export type CheckOptions = { timeoutMs?: number; concurrency?: number };

/** Runs every target, at most `concurrency` at a time; results keep the targets' order. */
export async function checkHealth(
  targets: readonly HealthTarget[],
  options: CheckOptions = {},
): Promise<HealthResult[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  const results: HealthResult[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const index = next++;
      results[index] = await checkTarget(targets[index] as HealthTarget, timeoutMs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
  return results;
}

export async function checkTarget(target: HealthTarget, timeoutMs: number): Promise<HealthResult> {
  const started = performance.now();
  const base = { service: target.service, stack: target.stack, target: targetLabel(target) };
  const finish = (status: HealthStatus, detail: string): HealthResult => ({
    ...base,
    status,
    detail,
    ms: Math.round(performance.now() - started),
  });
  const probe = target.probe;
  if (probe.kind === "skip") return finish("skipped", probe.reason);
  if (probe.kind === "tcp") {
    const error = await connectTcp(probe.host, probe.port, timeoutMs);
    return error === undefined ? finish("healthy", "open") : finish("unhealthy", error);
  }
  try {
    const response = await fetch(probe.url, {
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      tls: { rejectUnauthorized: false },
    });
    await response.body?.cancel();
    return response.status === probe.expected
      ? finish("healthy", `HTTP ${response.status}`)
      : finish("unhealthy", `HTTP ${response.status}, expected ${probe.expected}`);
  } catch (error) {
    return finish("unhealthy", describeNetworkError(error, timeoutMs));
  }
}

/** Resolves to undefined when the port accepts a connection, or to a description of the failure. */
function connectTcp(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`timed out after ${timeoutMs} ms`);
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(describeNetworkError(error, timeoutMs));
    });
  });
}

const ERROR_TEXT: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ConnectionRefused: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_NONAME: "host not found",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

export function describeNetworkError(error: unknown, timeoutMs: number): string {
  const name = error instanceof Error ? error.name : "";
  if (name === "TimeoutError" || name === "AbortError") return `timed out after ${timeoutMs} ms`;
  const code = error && typeof error === "object" && "code" in error ? String(error.code) : "";
  if (code && ERROR_TEXT[code]) return ERROR_TEXT[code];
  if (code) return code;
  return error instanceof Error ? error.message.split("\n")[0] || name || "failed" : String(error);
}

export type HealthSummary = { healthy: number; unhealthy: number; skipped: number };

export function summarizeHealth(results: readonly HealthResult[]): HealthSummary {
  const count = (status: HealthStatus) => results.filter((result) => result.status === status).length;
  return { healthy: count("healthy"), unhealthy: count("unhealthy"), skipped: count("skipped") };
}
