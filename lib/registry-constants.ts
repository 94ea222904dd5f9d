/**
 * The registry's fixed vocabulary: name and value patterns, port bounds, enumerations. Plain
 * values without valibot, so derivations and the scanner can use them without loading the schema.
 */
export const NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
export const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;
/** Names that would collide with `Object.prototype` members when used as keys. */
export const RESERVED_NAMES = ["__proto__", "constructor", "prototype"] as const;
/** RFC 3986 path, query and fragment characters, without quotes or spaces. */
export const URL_PATH_PATTERN = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@%/?#]*$/;
export const GATEWAY_PATH_PATTERN = /^\/[A-Za-z0-9\-._~/]*$/;
export const RANGE_PATTERN = /^(\d{1,5})-(\d{1,5})$/;
export const DURATION_PATTERN = /^\d{1,4}(?:ms|s|m)$/;
/** A single line of printable text: no control characters at all. */
export const SINGLE_LINE_PATTERN = /^[^\p{Cc}\u2028\u2029]*$/u;
/** Free text (owner, description, notes) is never blank and never starts or ends with whitespace. */
const WHITESPACE = /\s/;

/** True when `text` starts or ends with whitespace (two one-character tests, not a scan of the text). */
export function isPaddedText(text: string): boolean {
  return text !== "" && (WHITESPACE.test(text.charAt(0)) || WHITESPACE.test(text.charAt(text.length - 1)));
}
/** The two in one pattern, for the generated JSON Schema (valibot gives each its own message). */
export const FREE_TEXT_JSON_PATTERN = "^(?!\\s)(?!.*\\s$)[^\\p{Cc}\\u2028\\u2029]*$";

export const PORT_MIN = 1024;
export const PORT_MAX = 65535;

export const PROTOCOLS = [
  "http",
  "https",
  "grpc",
  "ws",
  "tcp",
  "udp",
  "postgres",
  "mysql",
  "mongodb",
  "redis",
  "rabbitmq",
] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const EXPOSURES = ["direct", "gateway", "internal"] as const;
export const RESTART_POLICIES = ["no", "always", "on-failure", "unless-stopped"] as const;
export const SEVERITY_SETTINGS = ["error", "warning", "off"] as const;
/** Drivers of networks a stack can create (`host` and `none` are network modes: Compose cannot create them). */
export const NETWORK_DRIVERS = ["bridge", "overlay"] as const;

/** Network names: like service names, with `_` allowed. */
export const NETWORK_NAME_PATTERN = /^[a-z][a-z0-9_]*(?:-[a-z0-9_]+)*$/;
export const VERSION_PATTERN = /^\d+\.\d+\.\d+$/;
/** The same pattern as valibot's `isoDate`. */
export const ISO_DATE_PATTERN = /^\d{4}-(?:0[1-9]|1[0-2])-(?:[12]\d|0[1-9]|3[01])$/u;
// ports:allow an example origin in a comment, not a port anything listens on
/** An origin such as http://localhost:9080. */
export const GATEWAY_URL_PATTERN =
  /^https?:\/\/[A-Za-z0-9.-]+(?::(?:6553[0-5]|655[0-2]\d|65[0-4]\d{2}|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3}))?$/;
/** `name[:tag][@digest]`: the name is lower case (a registry host may carry a port), a tag may not be. */
export const IMAGE_PATTERN =
  /^[a-z0-9][a-z0-9._\-/:]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[a-z0-9]+:[a-fA-F0-9]{32,})?$/;
export const REPO_PATH_PATTERN = /^[A-Za-z0-9._\-/]+$/;
/** `volume-name:/container/path[:ro]` or `./repo/path:/container/path[:ro]`. */
export const VOLUME_PATTERN =
  /^(?:[a-z0-9][a-z0-9_.-]*|\.\/[A-Za-z0-9._\-/]+):\/[A-Za-z0-9._\-/]*(?::(?:ro|rw))?$/;

/** A bind mount's host side stays in the repository: no `..` segment. */
export function isVolumeInsideRepository(volume: string): boolean {
  const source = volume.slice(0, volume.indexOf(":"));
  return !source.startsWith("./") || !source.split("/").includes("..");
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * A text's length in characters (Unicode code points), as JSON Schema's minLength and maxLength
 * count it: an emoji is one character, not the two UTF-16 units of `.length`.
 */
export function characterCount(text: string): number {
  return SURROGATE.test(text) ? [...text].length : text.length;
}

/** Length and value bounds of the schema's fields. */
export const LIMITS = {
  name: 63,
  owner: { min: 2, max: 100 },
  description: { min: 10, max: 200 },
  notes: { min: 1, max: 500 },
  networkDescription: { min: 1, max: 200 },
  endpoint: 200,
  envValue: 1000,
  status: { min: 100, max: 599 },
  retries: { min: 1, max: 100 },
  containerPort: { min: 1, max: 65535 },
} as const;

/** Date.parse rolls 2025-02-30 over to March; a real date survives the round trip. */
export function isCalendarDate(date: string): boolean {
  const time = Date.parse(`${date}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === date;
}

/** The keys each object of the registry may carry (the schema's entries; a test holds them equal). */
export const REGISTRY_KEYS = {
  root: ["version", "lastUpdated", "gatewayUrl", "rules", "networks", "ranges", "services"],
  service: [
    "name",
    "stack",
    "port",
    "protocol",
    "owner",
    "description",
    "container",
    "network",
    "containerPort",
    "healthcheck",
    "depends_on",
    "deprecated",
    "replacement",
    "notes",
    "exposure",
    "gatewayPath",
    "image",
    "build",
    "command",
    "environment",
    "volumes",
    "restart",
  ],
  healthcheck: ["endpoint", "expected", "command", "interval", "timeout", "retries", "startPeriod"],
  build: ["context", "dockerfile", "args"],
  network: ["driver", "external", "description"],
} as const;

export type RegistryObjectKind = keyof typeof REGISTRY_KEYS;

/** The same key lists as sets, for lookups. */
export const REGISTRY_KEY_SETS: Record<RegistryObjectKind, ReadonlySet<string>> = {
  root: new Set(REGISTRY_KEYS.root),
  service: new Set(REGISTRY_KEYS.service),
  healthcheck: new Set(REGISTRY_KEYS.healthcheck),
  build: new Set(REGISTRY_KEYS.build),
  network: new Set(REGISTRY_KEYS.network),
};
