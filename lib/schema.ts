/**
 * The registry schema: the shape of `config/ports/registry.yaml`.
 *
 * Valibot checks each value in isolation. Cross-field rules (unique ports, ranges, dependency
 * graph, connectivity) live in `lib/rules.ts`, so a type error in one service never hides a
 * duplicate port in another. Unknown keys are reported by `lib/load.ts` with a did-you-mean.
 */
import * as v from "valibot";

import {
  characterCount,
  DURATION_PATTERN,
  ENV_NAME_PATTERN,
  EXPOSURES,
  GATEWAY_PATH_PATTERN,
  GATEWAY_URL_PATTERN,
  IMAGE_PATTERN,
  isCalendarDate,
  isPaddedText,
  isVolumeInsideRepository,
  LIMITS,
  NAME_PATTERN,
  NETWORK_DRIVERS,
  NETWORK_NAME_PATTERN,
  PORT_MAX,
  PORT_MIN,
  PROTOCOLS,
  RANGE_PATTERN,
  REPO_PATH_PATTERN,
  RESERVED_NAMES,
  RESTART_POLICIES,
  SEVERITY_SETTINGS,
  SINGLE_LINE_PATTERN,
  URL_PATH_PATTERN,
  VERSION_PATTERN,
  VOLUME_PATTERN,
} from "./registry-constants.ts";

export * from "./registry-constants.ts";

const nameSchema = v.pipe(
  v.string(),
  // Before the pattern, so `__proto__` is reported as reserved rather than as badly formed.
  v.check(
    (name) => !(RESERVED_NAMES as readonly string[]).includes(name),
    (issue) => `"${issue.input}" is a reserved name; choose another`,
  ),
  v.maxLength(LIMITS.name, `must be at most ${LIMITS.name} characters (a DNS label)`),
  v.regex(NAME_PATTERN, "must be lowercase kebab-case: a-z, 0-9 and single hyphens, starting with a letter"),
);

const singleLine = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.regex(SINGLE_LINE_PATTERN, "must be a single line without control characters"),
    v.check((text) => /\S/.test(text), "must not be blank"),
    v.check((text) => !/\S/.test(text) || !isPaddedText(text), "must not start or end with a space"),
    // Characters as JSON Schema counts them (code points); the generated schema carries the
    // same bounds as minLength and maxLength.
    v.check((text) => characterCount(text) >= min, `must be at least ${min} characters`),
    v.check((text) => characterCount(text) <= max, `must be at most ${max} characters`),
  );

const portSchema = v.pipe(
  v.number(),
  v.integer("must be an integer"),
  v.minValue(PORT_MIN, `must be between ${PORT_MIN} and ${PORT_MAX}`),
  v.maxValue(PORT_MAX, `must be between ${PORT_MIN} and ${PORT_MAX}`),
);

const containerPortSchema = v.pipe(
  v.number(),
  v.integer("must be an integer"),
  v.minValue(
    LIMITS.containerPort.min,
    `must be between ${LIMITS.containerPort.min} and ${LIMITS.containerPort.max}`,
  ),
  v.maxValue(
    LIMITS.containerPort.max,
    `must be between ${LIMITS.containerPort.min} and ${LIMITS.containerPort.max}`,
  ),
);

/** A relative path (to the repository root, or to the build context) that never climbs out of it. */
const relativePathSchema = (base: string) =>
  v.pipe(
    v.string(),
    v.minLength(1, "must not be empty"),
    v.regex(REPO_PATH_PATTERN, "may only hold letters, digits, '.', '_', '-' and '/'"),
    v.check((path) => !path.startsWith("/"), `must be relative to ${base}`),
    v.check((path) => !path.split("/").includes(".."), "must not contain '..'"),
  );

const healthcheckSchema = v.object({
  endpoint: v.optional(
    v.pipe(
      v.string(),
      v.regex(
        URL_PATH_PATTERN,
        "must be a URL path starting with '/' using only RFC 3986 characters (no spaces or quotes)",
      ),
      v.maxLength(LIMITS.endpoint, `must be at most ${LIMITS.endpoint} characters`),
    ),
  ),
  expected: v.optional(
    v.pipe(
      v.number(),
      v.integer("must be an integer"),
      v.minValue(LIMITS.status.min, `must be an HTTP status ${LIMITS.status.min}-${LIMITS.status.max}`),
      v.maxValue(LIMITS.status.max, `must be an HTTP status ${LIMITS.status.min}-${LIMITS.status.max}`),
    ),
  ),
  command: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.regex(SINGLE_LINE_PATTERN, "must be a single line"))),
      v.minLength(1, "must hold the command and its arguments"),
    ),
  ),
  interval: v.optional(v.pipe(v.string(), v.regex(DURATION_PATTERN, "must be a duration such as 10s"))),
  timeout: v.optional(v.pipe(v.string(), v.regex(DURATION_PATTERN, "must be a duration such as 3s"))),
  retries: v.optional(
    v.pipe(
      v.number(),
      v.integer("must be an integer"),
      v.minValue(LIMITS.retries.min, `must be between ${LIMITS.retries.min} and ${LIMITS.retries.max}`),
      v.maxValue(LIMITS.retries.max, `must be between ${LIMITS.retries.min} and ${LIMITS.retries.max}`),
    ),
  ),
  startPeriod: v.optional(v.pipe(v.string(), v.regex(DURATION_PATTERN, "must be a duration such as 5s"))),
});

const envValueSchema = v.union(
  [
    v.pipe(v.string(), v.regex(SINGLE_LINE_PATTERN, "must be a single line"), v.maxLength(LIMITS.envValue)),
    v.strictObject({ urlOf: nameSchema }),
    v.strictObject({ hostOf: nameSchema }),
    v.strictObject({ portOf: nameSchema }),
  ],
  "must be a string or one of { urlOf: service }, { hostOf: service }, { portOf: service }",
);

const buildSchema = v.object({
  context: relativePathSchema("the repository root"),
  // Compose reads the Dockerfile's path from the build context.
  dockerfile: v.optional(relativePathSchema("the build context")),
  args: v.optional(
    v.record(
      v.pipe(v.string(), v.regex(ENV_NAME_PATTERN, "must be an UPPER_SNAKE_CASE name")),
      v.pipe(v.string(), v.regex(SINGLE_LINE_PATTERN, "must be a single line"), v.maxLength(LIMITS.envValue)),
    ),
  ),
});

export const serviceSchema = v.object({
  name: nameSchema,
  stack: nameSchema,
  port: portSchema,
  protocol: v.picklist(PROTOCOLS, `must be one of ${PROTOCOLS.join(", ")}`),
  owner: singleLine(LIMITS.owner.min, LIMITS.owner.max),
  description: singleLine(LIMITS.description.min, LIMITS.description.max),
  container: v.optional(v.boolean("must be true or false")),
  network: v.optional(
    v.union(
      [
        nameSchemaForNetwork(),
        v.pipe(v.array(nameSchemaForNetwork()), v.minLength(1, "must name at least one network")),
      ],
      "must be a network name or a list of network names",
    ),
  ),
  containerPort: v.optional(containerPortSchema),
  healthcheck: v.optional(healthcheckSchema),
  depends_on: v.optional(v.array(nameSchema)),
  deprecated: v.optional(v.boolean("must be true or false")),
  replacement: v.optional(nameSchema),
  notes: v.optional(singleLine(LIMITS.notes.min, LIMITS.notes.max)),
  exposure: v.optional(v.picklist(EXPOSURES, `must be one of ${EXPOSURES.join(", ")}`)),
  gatewayPath: v.optional(
    v.pipe(v.string(), v.regex(GATEWAY_PATH_PATTERN, "must be a URL path such as /api/telegram")),
  ),
  image: v.optional(v.pipe(v.string(), v.regex(IMAGE_PATTERN, "must be an image reference such as redis:7"))),
  build: v.optional(buildSchema),
  command: v.optional(v.array(v.pipe(v.string(), v.regex(SINGLE_LINE_PATTERN, "must be a single line")))),
  environment: v.optional(
    v.record(
      v.pipe(v.string(), v.regex(ENV_NAME_PATTERN, "must be an UPPER_SNAKE_CASE name")),
      envValueSchema,
    ),
  ),
  volumes: v.optional(
    v.array(
      v.pipe(
        v.string(),
        v.regex(VOLUME_PATTERN, "must be 'volume:/path' or './repo/path:/path'"),
        v.check(isVolumeInsideRepository, "must not leave the repository: no '..' in a bind mount"),
      ),
    ),
  ),
  restart: v.optional(v.picklist(RESTART_POLICIES, `must be one of ${RESTART_POLICIES.join(", ")}`)),
});

function nameSchemaForNetwork() {
  return v.pipe(
    v.string(),
    v.maxLength(LIMITS.name, `must be at most ${LIMITS.name} characters`),
    v.regex(NETWORK_NAME_PATTERN, "must start with a letter and use only a-z, 0-9, '_' and single hyphens"),
  );
}

export const networkSchema = v.object({
  driver: v.optional(
    v.picklist(
      NETWORK_DRIVERS,
      `must be ${NETWORK_DRIVERS.join(" or ")} (Compose cannot create a host or none network)`,
    ),
  ),
  external: v.optional(v.boolean()),
  description: v.optional(singleLine(LIMITS.networkDescription.min, LIMITS.networkDescription.max)),
});

export const registrySchema = v.object({
  version: v.pipe(
    v.string("must be a quoted string"),
    v.regex(VERSION_PATTERN, "must be a version such as 1.0.0"),
  ),
  lastUpdated: v.pipe(
    v.string("must be a quoted date"),
    v.isoDate("must be a date as YYYY-MM-DD"),
    // Date.parse rolls 2025-02-30 over to March; a real date survives the round trip.
    v.check((date) => isCalendarDate(date), "must be a real calendar date"),
  ),
  gatewayUrl: v.optional(
    v.pipe(
      v.string(),
      // ports:allow an example origin in a message, not a port anything listens on
      v.regex(GATEWAY_URL_PATTERN, "must be an origin such as http://localhost:9080"),
    ),
  ),
  rules: v.optional(
    v.record(v.string(), v.picklist(SEVERITY_SETTINGS, `must be one of ${SEVERITY_SETTINGS.join(", ")}`)),
  ),
  networks: v.optional(v.record(nameSchemaForNetwork(), networkSchema)),
  ranges: v.record(
    nameSchema,
    v.pipe(
      v.string('must be a quoted range such as "4000-4099"'),
      v.regex(RANGE_PATTERN, 'must be a range such as "4000-4099"'),
    ),
  ),
  services: v.array(serviceSchema),
});

export type Registry = v.InferOutput<typeof registrySchema>;
export type Service = v.InferOutput<typeof serviceSchema>;
export type Healthcheck = v.InferOutput<typeof healthcheckSchema>;
export type EnvValue = v.InferOutput<typeof envValueSchema>;
export type NetworkDefinition = v.InferOutput<typeof networkSchema>;

/** Keys every object in the registry may carry, for unknown-key detection and did-you-mean. */
export const KNOWN_KEYS = {
  root: Object.keys(registrySchema.entries),
  service: Object.keys(serviceSchema.entries),
  healthcheck: Object.keys(healthcheckSchema.entries),
  build: Object.keys(buildSchema.entries),
  network: Object.keys(networkSchema.entries),
} as const;
