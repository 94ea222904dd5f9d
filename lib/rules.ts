/**
 * Business rules: cross-field checks over the salvaged registry. Each rule is a pure function
 * that returns diagnostics; `checkRegistry` runs the ones a mode asks for.
 */
import {
  compareCodeUnits,
  deriveEnvNames,
  HTTP_PROTOCOLS,
  isEphemeralPort,
  LINUX_EPHEMERAL,
  networksOf,
  parseRange,
  toEnvPrefix,
} from "./derive.ts";
import {
  createDiagnostic,
  type Diagnostic,
  isRuleId,
  type Position,
  RULES,
  type RuleId,
  suggestClosest,
} from "./diagnostics.ts";
import type { ParsedRegistry, PartialRegistry, PartialService, Path } from "./load.ts";
import { PORT_MAX, PORT_MIN } from "./registry-constants.ts";
import type { Service } from "./schema.ts";

export type RuleContext = {
  file: string;
  registry: PartialRegistry;
  /** Every service name written in the file, even in services that failed the schema. */
  names: Set<string>;
  locate: ParsedRegistry["locate"];
};

type Rule = (context: RuleContext) => Diagnostic[];

function at(
  context: RuleContext,
  path: Path,
  rule: RuleId,
  message: string,
  which?: "key" | "value",
): Diagnostic {
  const position: Position = context.locate(path, which);
  return createDiagnostic(context.file, position, rule, message);
}

function servicePath(service: PartialService, field?: string): Path {
  return field ? ["services", service.index, field] : ["services", service.index];
}

/** A field the file does not set at all (one written with a bad value is already a schema error). */
const isUnset = (service: PartialService, field: keyof PartialService & string) =>
  service[field] === undefined && !service.rejected.includes(field);

const label = (service: PartialService) => service.name ?? `services[${service.index}]`;

const firstByNameCache = new WeakMap<readonly PartialService[], Map<string, PartialService>>();
const lastByNameCache = new WeakMap<readonly PartialService[], Map<string, PartialService>>();

/** Services by name, the first of a duplicated name (built once per services list; read only). */
function firstByName(services: readonly PartialService[]): Map<string, PartialService> {
  let byName = firstByNameCache.get(services);
  if (!byName) {
    byName = new Map();
    for (const service of services)
      if (service.name && !byName.has(service.name)) byName.set(service.name, service);
    firstByNameCache.set(services, byName);
  }
  return byName;
}

/** Services by name, the last of a duplicated name (the same map as firstByName when names are unique). */
function lastByName(services: readonly PartialService[]): Map<string, PartialService> {
  let byName = lastByNameCache.get(services);
  if (!byName) {
    const first = firstByName(services);
    let hasDuplicates = false;
    let named = 0;
    for (const service of services) if (service.name) named++;
    hasDuplicates = named !== first.size;
    if (hasDuplicates) {
      byName = new Map();
      for (const service of services) if (service.name) byName.set(service.name, service);
    } else {
      byName = first;
    }
    lastByNameCache.set(services, byName);
  }
  return byName;
}

export const checkDuplicateNames: Rule = (context) => {
  const seen = new Map<string, PartialService>();
  const diagnostics: Diagnostic[] = [];
  for (const service of context.registry.services) {
    if (service.name === undefined) continue;
    const first = seen.get(service.name);
    if (first) {
      diagnostics.push(
        at(
          context,
          servicePath(service, "name"),
          "name-duplicate",
          `name ${service.name} is already used by services[${first.index}]`,
        ),
      );
    } else {
      seen.set(service.name, service);
    }
  }
  return diagnostics;
};

export const checkDuplicatePorts: Rule = (context) => {
  const seen = new Map<number, PartialService>();
  const diagnostics: Diagnostic[] = [];
  for (const service of context.registry.services) {
    if (service.port === undefined) continue;
    const first = seen.get(service.port);
    if (first) {
      diagnostics.push(
        at(
          context,
          servicePath(service, "port"),
          "port-duplicate",
          `port ${service.port} is already used by ${label(first)}`,
        ),
      );
    } else {
      seen.set(service.port, service);
    }
  }
  return diagnostics;
};

export const checkRanges: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  const valid: { stack: string; min: number; max: number }[] = [];
  for (const [stack, text] of Object.entries(context.registry.ranges)) {
    const range = parseRange(text);
    if (!range) continue; // the schema already reported the format
    const path: Path = ["ranges", stack];
    if (range.min > range.max) {
      diagnostics.push(at(context, path, "range-invalid", `range ${stack} "${text}" starts after it ends`));
    } else if (range.min < PORT_MIN || range.max > PORT_MAX) {
      diagnostics.push(
        at(
          context,
          path,
          "range-invalid",
          `range ${stack} "${text}" must lie within ${PORT_MIN}-${PORT_MAX}`,
        ),
      );
    } else {
      valid.push({ stack, ...range });
    }
  }
  const sorted = [...valid].sort((a, b) => a.min - b.min || compareCodeUnits(a.stack, b.stack));
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i] as (typeof sorted)[number];
    for (let j = i + 1; j < sorted.length; j++) {
      const b = sorted[j] as (typeof sorted)[number];
      if (b.min > a.max) break;
      const lo = Math.max(a.min, b.min);
      const hi = Math.min(a.max, b.max);
      diagnostics.push(
        at(
          context,
          ["ranges", b.stack],
          "range-overlap",
          `range ${b.stack} overlaps ${a.stack} on ${lo === hi ? lo : `${lo}-${hi}`}`,
        ),
      );
    }
  }
  return diagnostics;
};

export const checkPortsInRange: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  const stacks = Object.keys(context.registry.ranges);
  const parsedRanges = new Map<string, ReturnType<typeof parseRange>>();
  for (const service of context.registry.services) {
    if (service.stack === undefined) continue;
    if (!Object.hasOwn(context.registry.ranges, service.stack)) {
      const suggestion = suggestClosest(service.stack, stacks);
      diagnostics.push(
        at(
          context,
          servicePath(service, "stack"),
          "stack-unknown",
          `stack ${service.stack} has no entry in ranges${suggestion ? `; did you mean ${suggestion}?` : ""}`,
        ),
      );
      continue;
    }
    const text = context.registry.ranges[service.stack] as string;
    let range = parsedRanges.get(text);
    if (!parsedRanges.has(text)) {
      range = parseRange(text);
      parsedRanges.set(text, range);
    }
    if (!range || service.port === undefined) continue;
    if (service.port < range.min || service.port > range.max) {
      diagnostics.push(
        at(
          context,
          servicePath(service, "port"),
          "port-out-of-range",
          `port ${service.port} of ${label(service)} is outside its stack ${service.stack} (${text})`,
        ),
      );
    }
  }
  return diagnostics;
};

export const checkEphemeralPorts: Rule = (context) =>
  context.registry.services
    .filter((service) => service.port !== undefined && isEphemeralPort(service.port))
    .map((service) =>
      at(
        context,
        servicePath(service, "port"),
        "port-ephemeral",
        `port ${service.port} of ${label(service)} is in the Linux ephemeral range ${LINUX_EPHEMERAL.min}-${LINUX_EPHEMERAL.max}; outgoing connections may take it`,
      ),
    );

export const checkDependencies: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  const byName = firstByName(context.registry.services);
  for (const service of context.registry.services) {
    const dependencies = service.depends_on ?? [];
    for (let position = 0; position < dependencies.length; position++) {
      const dependency = dependencies[position] as string;
      if (dependency !== service.name && context.names.has(dependency)) continue;
      const path = [...servicePath(service, "depends_on"), position];
      if (dependency === service.name) {
        diagnostics.push(at(context, path, "depends-self", `${label(service)} depends on itself`));
      } else if (!context.names.has(dependency)) {
        const others = [...context.names].filter((name) => name !== service.name);
        const suggestion = suggestClosest(dependency, others);
        diagnostics.push(
          at(
            context,
            path,
            "depends-missing",
            `${label(service)} depends on ${dependency}, which is not registered${suggestion ? `; did you mean ${suggestion}?` : ""}`,
          ),
        );
      }
    }
  }
  diagnostics.push(...findCycles(context, byName));
  return diagnostics;
};

function findCycles(context: RuleContext, byName: Map<string, PartialService>): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (name: string) => {
    state.set(name, "visiting");
    stack.push(name);
    const service = byName.get(name);
    for (const dependency of service?.depends_on ?? []) {
      if (dependency === name || !byName.has(dependency)) continue;
      const status = state.get(dependency);
      if (status === "visiting") {
        const cycle = stack.slice(stack.indexOf(dependency));
        const key = [...cycle].sort().join(",");
        if (!reported.has(key)) {
          reported.add(key);
          const first = byName.get(dependency) as PartialService;
          const index = (first.depends_on ?? []).indexOf(cycle[1] ?? dependency);
          diagnostics.push(
            at(
              context,
              [...servicePath(first, "depends_on"), Math.max(0, index)],
              "depends-cycle",
              `depends_on forms a cycle: ${[...cycle, dependency].join(" -> ")}`,
            ),
          );
        }
      } else if (status === undefined) {
        visit(dependency);
      }
    }
    stack.pop();
    state.set(name, "done");
  };
  // Default sort: code-unit order, like compareCodeUnits, without a call per comparison.
  for (const name of [...byName.keys()].sort()) if (!state.has(name)) visit(name);
  return diagnostics;
}

export const checkDeprecations: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  const byName = lastByName(context.registry.services);
  for (const service of context.registry.services) {
    if (service.deprecated && isUnset(service, "replacement")) {
      diagnostics.push(
        at(
          context,
          servicePath(service, "deprecated"),
          "deprecated-no-replacement",
          `${label(service)} is deprecated but names no replacement`,
        ),
      );
    }
    if (service.replacement === undefined) continue;
    const path = servicePath(service, "replacement");
    if (!service.deprecated) {
      diagnostics.push(
        at(
          context,
          path,
          "replacement-not-deprecated",
          `${label(service)} names a replacement but is not deprecated; add deprecated: true`,
        ),
      );
    }
    if (service.replacement === service.name) {
      diagnostics.push(
        at(context, path, "replacement-self", `${label(service)} names itself as its replacement`),
      );
    } else if (!context.names.has(service.replacement)) {
      diagnostics.push(
        at(
          context,
          path,
          "replacement-missing",
          `replacement ${service.replacement} of ${label(service)} is not registered`,
        ),
      );
    } else if (byName.get(service.replacement)?.deprecated) {
      diagnostics.push(
        at(
          context,
          path,
          "replacement-deprecated",
          `replacement ${service.replacement} of ${label(service)} is itself deprecated; point to its replacement`,
        ),
      );
    }
  }
  return diagnostics;
};

export const checkNetworks: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  const declared = context.registry.networks;
  const used = new Set<string>();
  for (const service of context.registry.services) {
    const networks = networksOf(service);
    for (const network of networks) used.add(network);
    if (service.container && isUnset(service, "network") && service.name !== undefined) {
      diagnostics.push(
        at(
          context,
          servicePath(service),
          "network-required",
          `container ${label(service)} declares no network; add network: <name>`,
        ),
      );
    }
    if (!declared) continue;
    for (let position = 0; position < networks.length; position++) {
      const network = networks[position] as string;
      if (Object.hasOwn(declared, network)) continue;
      const path =
        typeof service.network === "string"
          ? servicePath(service, "network")
          : [...servicePath(service, "network"), position];
      const suggestion = suggestClosest(network, Object.keys(declared));
      diagnostics.push(
        at(
          context,
          path,
          "network-undeclared",
          `network ${network} of ${label(service)} is not declared under networks:${suggestion ? `; did you mean ${suggestion}?` : ""}`,
        ),
      );
    }
  }
  // A service whose network field failed the schema may use any network: none is known unused.
  const isUsageKnown = !context.registry.services.some(
    (service) => service.rejected.length > 0 && service.rejected.includes("network"),
  );
  if (declared && isUsageKnown) {
    for (const network of Object.keys(declared)) {
      if (!used.has(network))
        diagnostics.push(
          at(
            context,
            ["networks", network],
            "network-unused",
            `network ${network} is used by no service`,
            "key",
          ),
        );
    }
  }
  return diagnostics;
};

/** The bug class this toolkit exists to end: a container that cannot reach what it depends on. */
export const checkConnectivity: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  const byName = lastByName(context.registry.services);
  for (const service of context.registry.services) {
    if (service.container !== true) {
      if (!service.rejected.includes("container")) {
        diagnostics.push(...checkNativeDependencies(context, service, byName));
      }
      continue;
    }
    const own = networksOf(service);
    const dependencies = service.depends_on ?? [];
    for (let position = 0; position < dependencies.length; position++) {
      const name = dependencies[position] as string;
      const dependency = byName.get(name);
      if (!dependency || dependency === service) continue;
      if (dependency.container === undefined && dependency.name === undefined) continue;
      if (dependency.rejected.length > 0 && dependency.rejected.includes("container")) continue;
      if (!dependency.container) {
        diagnostics.push(
          at(
            context,
            [...servicePath(service, "depends_on"), position],
            "depends-native",
            `container ${label(service)} depends on native service ${name}; it is reached at host.docker.internal:${dependency.port ?? "?"} (extra_hosts: host-gateway), never localhost. Containerize ${name} to remove this warning`,
          ),
        );
        continue;
      }
      const theirs = networksOf(dependency);
      if (own.length === 0 || theirs.length === 0) continue; // network-required covers it
      if (!sharesNetwork(own, theirs)) {
        diagnostics.push(
          at(
            context,
            [...servicePath(service, "depends_on"), position],
            "network-isolated",
            `container ${label(service)} (${[...new Set(own)].join(", ")}) cannot reach ${name} (${theirs.join(", ")}); add ${theirs[0]} to the network of ${label(service)}`,
          ),
        );
      }
    }
  }
  return diagnostics;
};

/** A native service runs on the host, which reaches a container only through a published port. */
function checkNativeDependencies(
  context: RuleContext,
  service: PartialService,
  byName: Map<string, PartialService>,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const dependencies = service.depends_on ?? [];
  for (let position = 0; position < dependencies.length; position++) {
    const name = dependencies[position] as string;
    const dependency = byName.get(name);
    if (!dependency || dependency === service || !dependency.container) continue;
    if (dependency.exposure !== "internal") continue;
    diagnostics.push(
      at(
        context,
        [...servicePath(service, "depends_on"), position],
        "depends-internal",
        `native service ${label(service)} depends on ${name}, which has exposure: internal and is not published on the host; publish ${name} (exposure: direct) or containerize ${label(service)}`,
      ),
    );
  }
  return diagnostics;
}

function sharesNetwork(own: readonly string[], theirs: readonly string[]): boolean {
  for (const network of theirs) if (own.includes(network)) return true;
  return false;
}

export const checkEnvironmentRefs: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  for (const service of context.registry.services) {
    if (service.environment === undefined) continue;
    for (const [variable, value] of Object.entries(service.environment)) {
      if (typeof value === "string") continue;
      const target = "urlOf" in value ? value.urlOf : "hostOf" in value ? value.hostOf : value.portOf;
      const isKnown = context.names.has(target);
      if (isKnown && (target === service.name || (service.depends_on ?? []).includes(target))) continue;
      const path = [...servicePath(service, "environment"), variable];
      if (!isKnown) {
        diagnostics.push(
          at(
            context,
            path,
            "env-ref-missing",
            `${variable} of ${label(service)} refers to ${target}, which is not registered`,
          ),
        );
      } else if (target !== service.name && !(service.depends_on ?? []).includes(target)) {
        diagnostics.push(
          at(
            context,
            path,
            "env-ref-unreachable",
            `${variable} of ${label(service)} refers to ${target}; add it to depends_on so it starts first`,
          ),
        );
      }
    }
  }
  return diagnostics;
};

/** `host:port` in a literal value: a loopback address or a bare DNS name (not part of a longer name), in any case. */
const LITERAL_ENDPOINT =
  /(?<![A-Za-z0-9.\-_])(localhost|127\.0\.0\.1|\[::1\]|[a-z][a-z0-9-]*):(\d{1,5})(?![0-9])/gi;
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * The MTProto bug, written into the registry itself: a container's literal value that reaches
 * another registered service at localhost (the container itself), or a registered service by name
 * on a port it does not listen on inside the network. `{ urlOf: service }` always resolves right.
 * Loopback on a port no other service owns may be the container's own extra listener (metrics, a
 * debugger), and 0.0.0.0 is a bind address: neither is reported.
 */
export const checkLiteralEndpoints: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  let byPort: Map<number, PartialService> | undefined;
  const byName = lastByName(context.registry.services);
  for (const service of context.registry.services) {
    if (!service.container || service.environment === undefined) continue;
    for (const [variable, value] of Object.entries(service.environment)) {
      if (typeof value !== "string" || !value.includes(":")) continue;
      for (const match of value.matchAll(LITERAL_ENDPOINT)) {
        const host = (match[1] as string).toLowerCase(); // host names ignore case: LOCALHOST is localhost
        const port = Number(match[2]);
        const where = `${variable} of ${label(service)} points at ${match[1]}:${port}`;
        let problem: string | undefined;
        if (LOOPBACK_HOSTS.has(host)) {
          if (port === (service.containerPort ?? service.port)) continue; // the container itself
          if (!byPort) {
            byPort = new Map();
            for (const other of context.registry.services)
              if (other.port !== undefined && !byPort.has(other.port)) byPort.set(other.port, other);
          }
          const owner = byPort.get(port);
          if (!owner?.name || owner === service) continue;
          problem = `${where}, which inside the container is the container itself, not ${owner.name}; write { urlOf: ${owner.name} }`;
        } else {
          const target = byName.get(host);
          if (!target || target.port === undefined) continue;
          if (!target.container) {
            problem = `${where}, but ${host} is a native service with no name on the Docker network; write { urlOf: ${host} } (host.docker.internal:${target.port})`;
          } else {
            const listening = target.containerPort ?? target.port;
            if (port === listening) continue;
            problem = `${where}, but ${host} listens on ${listening} inside the network; write { urlOf: ${host} }`;
          }
        }
        diagnostics.push(
          at(context, [...servicePath(service, "environment"), variable], "env-literal-endpoint", problem),
        );
      }
    }
  }
  return diagnostics;
};

const CONTAINER_ONLY_FIELDS = ["image", "build", "volumes", "command", "restart", "containerPort"] as const;

export const checkContainerFields: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  for (const service of context.registry.services) {
    if (service.container === true || service.rejected.includes("container")) continue;
    for (const field of CONTAINER_ONLY_FIELDS) {
      if (service[field] !== undefined) {
        diagnostics.push(
          at(
            context,
            servicePath(service, field),
            "container-fields-native",
            `${field} of ${label(service)} is ignored: it is not a container (container: true)`,
            "key",
          ),
        );
      }
    }
  }
  return diagnostics;
};

export const checkGateway: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  const paths = new Map<string, PartialService>();
  for (const service of context.registry.services) {
    if (service.exposure === "gateway" && isUnset(service, "gatewayPath")) {
      diagnostics.push(
        at(
          context,
          servicePath(service, "exposure"),
          "gateway-path-missing",
          `${label(service)} has exposure: gateway but no gatewayPath`,
        ),
      );
    }
    if (service.gatewayPath === undefined) continue;
    if (service.exposure !== "gateway") {
      diagnostics.push(
        at(
          context,
          servicePath(service, "gatewayPath"),
          "gateway-path-unused",
          `gatewayPath of ${label(service)} is unused without exposure: gateway`,
        ),
      );
      continue;
    }
    const first = paths.get(service.gatewayPath);
    if (first) {
      diagnostics.push(
        at(
          context,
          servicePath(service, "gatewayPath"),
          "gateway-path-duplicate",
          `gatewayPath ${service.gatewayPath} is already used by ${label(first)}`,
        ),
      );
    } else {
      paths.set(service.gatewayPath, service);
    }
  }
  return diagnostics;
};

export const checkHealthchecks: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  for (const service of context.registry.services) {
    const endpoint = service.healthcheck?.endpoint;
    if (endpoint === undefined) continue;
    const path = [...servicePath(service, "healthcheck"), "endpoint"];
    if (endpoint.includes("#")) {
      diagnostics.push(
        at(
          context,
          path,
          "health-fragment",
          `endpoint ${endpoint} of ${label(service)} has a #fragment, which is never sent; the check requests ${endpoint.slice(0, endpoint.indexOf("#"))}`,
        ),
      );
    }
    if (service.protocol !== undefined && !HTTP_PROTOCOLS.includes(service.protocol)) {
      diagnostics.push(
        at(
          context,
          path,
          "health-endpoint-protocol",
          `${label(service)} speaks ${service.protocol}, so its HTTP endpoint is not used; a TCP check runs instead`,
        ),
      );
    }
  }
  return diagnostics;
};

/** `.env.shared` holds one line per variable: `api` (gateway) and `api-gateway` both derive API_GATEWAY_URL. */
/**
 * Variables that tools read from the environment, which a service's derived names must not set:
 * `.env.shared` is passed to Compose with --env-file and loaded into shells.
 */
const RESERVED_ENV_NAMES = new Map([
  ["DOCKER_HOST", "docker-compose reads from .env.shared and the docker CLI from the environment"],
]);

/** A service whose derived variable is one the Docker tools read (a service named docker sets DOCKER_HOST). */
export const checkReservedEnvNames: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  for (const service of context.registry.services) {
    if (service.name === undefined) continue;
    const names = deriveEnvNames(service as Pick<Service, "name" | "exposure">, context.registry);
    for (const variable of [names.port, names.host, names.url, names.gatewayPath, names.gatewayUrl]) {
      const reader = variable === undefined ? undefined : RESERVED_ENV_NAMES.get(variable);
      if (reader === undefined) continue;
      diagnostics.push(
        at(
          context,
          servicePath(service, "name"),
          "env-name-reserved",
          `${label(service)} derives ${variable}, which ${reader}; rename the service (for example ${service.name}-engine)`,
        ),
      );
    }
  }
  return diagnostics;
};

export const checkEnvNameCollisions: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  const byName = firstByName(context.registry.services);
  if (!canShareEnvNames(byName.values(), Boolean(context.registry.gatewayUrl))) return diagnostics;
  const owners = new Map<string, string>();
  for (const service of context.registry.services) {
    // A repeated name is name-duplicate's finding: only its first service derives variables here.
    if (service.name === undefined || byName.get(service.name) !== service) continue;
    const names = deriveEnvNames(service as Pick<Service, "name" | "exposure">, context.registry);
    for (const variable of [names.port, names.host, names.url, names.gatewayPath, names.gatewayUrl]) {
      if (variable === undefined) continue;
      const owner = owners.get(variable);
      if (owner === undefined) {
        owners.set(variable, service.name);
        continue;
      }
      diagnostics.push(
        at(
          context,
          servicePath(service, "name"),
          "env-name-collision",
          `${service.name} derives ${variable}, which ${owner} derives too; rename one of them`,
        ),
      );
    }
  }
  return diagnostics;
};

/**
 * Whether two of `services` (unique names) can derive one variable. A variable is a prefix plus
 * _PORT, _HOST, _URL, _GATEWAY_PATH or _GATEWAY_URL, and of these only _URL ends another one. So
 * two services share a variable only when their prefixes are equal, or when one prefix is a
 * gateway service's prefix plus _GATEWAY (its _GATEWAY_URL is then the other's _URL). Checking
 * prefixes alone spares a large registry five map entries per service.
 */
export function canShareEnvNames(services: Iterable<PartialService>, hasGatewayUrl: boolean): boolean {
  const prefixes = new Set<string>();
  const gatewayUrlPrefixes: string[] = [];
  for (const service of services) {
    if (service.name === undefined) continue;
    const prefix = toEnvPrefix(service.name);
    if (prefixes.has(prefix)) return true;
    prefixes.add(prefix);
    if (hasGatewayUrl && service.exposure === "gateway") gatewayUrlPrefixes.push(prefix);
  }
  for (const prefix of gatewayUrlPrefixes) if (prefixes.has(`${prefix}_GATEWAY`)) return true;
  return false;
}

export const checkRuleSettings: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  for (const rule of Object.keys(context.registry.rules ?? {})) {
    if (!isRuleId(rule)) {
      const suggestion = suggestClosest(rule, Object.keys(RULES));
      diagnostics.push(
        at(
          context,
          ["rules", rule],
          "rule-unknown",
          `unknown rule ${rule}${suggestion ? `; did you mean ${suggestion}?` : ""}`,
          "key",
        ),
      );
    } else if (!RULES[rule].overridable) {
      diagnostics.push(
        at(
          context,
          ["rules", rule],
          "rule-unknown",
          `rule ${rule} cannot be overridden: ${isLoadOrSchemaRule(rule) ? "the file would not mean anything" : "sync would generate broken files"}`,
          "key",
        ),
      );
    }
  }
  return diagnostics;
};

function isLoadOrSchemaRule(rule: string): boolean {
  return /^(?:file-|yaml-|schema-)|^name-reserved$|^rule-unknown$/.test(rule);
}

/** The lists Compose reads as sets: a repeated entry (or a volume's container path) is refused at `up`. */
export const checkListDuplicates: Rule = (context) => {
  const diagnostics: Diagnostic[] = [];
  for (const service of context.registry.services) {
    for (const field of ["network", "depends_on", "volumes"] as const) {
      const list = service[field];
      if (!Array.isArray(list) || list.length < 2) continue;
      const seen = new Map<string, number>();
      for (let position = 0; position < list.length; position++) {
        const entry = list[position];
        if (typeof entry !== "string") continue;
        const key = field === "volumes" ? containerPathOf(entry) : entry;
        const first = seen.get(key);
        if (first === undefined) {
          seen.set(key, position);
          continue;
        }
        const what = field === "volumes" ? `container path ${key}` : key;
        diagnostics.push(
          at(
            context,
            [...servicePath(service, field), position],
            "list-duplicate",
            `${field} of ${label(service)} repeats ${what} (entry ${first + 1} already has it); Compose refuses the file, so remove one`,
          ),
        );
      }
    }
  }
  return diagnostics;
};

/** `name:/data:ro` → `/data`. */
function containerPathOf(volume: string): string {
  const parts = volume.split(":");
  return parts[1] ?? volume;
}

export type CheckMode = "all" | "duplicates" | "ranges";

const RULES_BY_MODE: Record<CheckMode, Rule[]> = {
  duplicates: [checkDuplicateNames, checkDuplicatePorts],
  ranges: [checkRanges, checkPortsInRange, checkEphemeralPorts],
  all: [
    checkRuleSettings,
    checkDuplicateNames,
    checkDuplicatePorts,
    checkRanges,
    checkPortsInRange,
    checkEphemeralPorts,
    checkDependencies,
    checkDeprecations,
    checkNetworks,
    checkConnectivity,
    checkListDuplicates,
    checkEnvironmentRefs,
    checkLiteralEndpoints,
    checkContainerFields,
    checkGateway,
    checkHealthchecks,
    checkEnvNameCollisions,
    checkReservedEnvNames,
  ],
};

export function runRules(context: RuleContext, mode: CheckMode): Diagnostic[] {
  return RULES_BY_MODE[mode].flatMap((rule) => rule(context));
}
