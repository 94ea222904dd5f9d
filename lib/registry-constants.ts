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
export const NETWORK_DRIVERS = ["bridge", "overlay", "host", "none"] as const;
