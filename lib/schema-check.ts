/**
 * The schema's constraints, checked by hand, for the loader's fast path only.
 *
 * Importing valibot and building the schema is a third of a clean validate's start-up, and
 * running it the largest part of reading a big registry. A registry that passes this check is
 * exactly one valibot accepts, and valibot would return it unchanged: every key is one the schema
 * knows (no `x-` extensions, which valibot drops), every value has the schema's type and bounds.
 * Anything else, and any doubt, goes to valibot, which stays the authority and writes every
 * message. Tests hold this check to valibot's verdict and output on mutated registries, so a
 * change to lib/schema.ts that is not made here too fails them.
 */

import { skipOptimizingCompiler } from "./jit.ts";
import {
  characterCount,
  DURATION_PATTERN,
  ENV_NAME_PATTERN,
  EXPOSURES,
  GATEWAY_PATH_PATTERN,
  GATEWAY_URL_PATTERN,
  IMAGE_PATTERN,
  ISO_DATE_PATTERN,
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
  REGISTRY_KEY_SETS,
  REPO_PATH_PATTERN,
  RESERVED_NAMES,
  RESTART_POLICIES,
  SEVERITY_SETTINGS,
  SINGLE_LINE_PATTERN,
  URL_PATH_PATTERN,
  VERSION_PATTERN,
  VOLUME_PATTERN,
} from "./registry-constants.ts";
import type { Registry } from "./schema.ts";

type Plain = Record<string, unknown>;

const KEYS = REGISTRY_KEY_SETS;
const RESERVED = new Set<string>(RESERVED_NAMES);
const ENV_REFERENCE_KEYS = new Set(["urlOf", "hostOf", "portOf"]);

function isPlainObject(value: unknown): value is Plain {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function hasOnlyKeys(value: Plain, keys: ReadonlySet<string>): boolean {
  for (const key of Object.keys(value)) if (!keys.has(key)) return false;
  return true;
}

function isInteger(value: unknown, min: number, max: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function isMatch(value: unknown, pattern: RegExp): boolean {
  return typeof value === "string" && pattern.test(value);
}

function isSingleLine(value: unknown, bounds: { min: number; max: number }): boolean {
  if (typeof value !== "string") return false;
  const count = characterCount(value);
  return (
    count >= bounds.min && count <= bounds.max && SINGLE_LINE_PATTERN.test(value) && !isPaddedText(value)
  );
}

function isOneOf(value: unknown, choices: readonly string[]): boolean {
  return typeof value === "string" && choices.includes(value);
}

function isName(value: unknown): boolean {
  return (
    typeof value === "string" &&
    value.length <= LIMITS.name &&
    !RESERVED.has(value) &&
    NAME_PATTERN.test(value)
  );
}

function isNetworkName(value: unknown): boolean {
  return typeof value === "string" && value.length <= LIMITS.name && NETWORK_NAME_PATTERN.test(value);
}

function isRepoPath(value: unknown): boolean {
  return (
    typeof value === "string" &&
    REPO_PATH_PATTERN.test(value) &&
    !value.startsWith("/") &&
    !value.split("/").includes("..")
  );
}

function isListOf(value: unknown, item: (entry: unknown) => boolean, minLength = 0): boolean {
  if (!Array.isArray(value) || value.length < minLength) return false;
  for (const entry of value) if (!item(entry)) return false;
  return true;
}

function isRecordOf(
  value: unknown,
  key: (name: string) => boolean,
  item: (entry: unknown) => boolean,
): boolean {
  if (!isPlainObject(value)) return false;
  for (const [name, entry] of Object.entries(value)) if (!key(name) || !item(entry)) return false;
  return true;
}

/** An optional field: absent, or present and valid. */
function optional(value: unknown, check: (entry: unknown) => boolean): boolean {
  return value === undefined || check(value);
}

const isSingleLineText = (value: unknown) => isMatch(value, SINGLE_LINE_PATTERN);
const isDuration = (value: unknown) => isMatch(value, DURATION_PATTERN);

// Field checks as named functions, not arrows in each call: one registry runs them thousands of times.
const isEndpoint = (endpoint: unknown) =>
  isMatch(endpoint, URL_PATH_PATTERN) && (endpoint as string).length <= LIMITS.endpoint;
const isStatus = (status: unknown) => isInteger(status, LIMITS.status.min, LIMITS.status.max);
const isCommand = (command: unknown) => isListOf(command, isSingleLineText, 1);
const isRetries = (retries: unknown) => isInteger(retries, LIMITS.retries.min, LIMITS.retries.max);
const isBoolean = (value: unknown) => typeof value === "boolean";
const isNetworkField = (network: unknown) => isNetworkName(network) || isListOf(network, isNetworkName, 1);
const isContainerPort = (port: unknown) =>
  isInteger(port, LIMITS.containerPort.min, LIMITS.containerPort.max);
const isNameList = (names: unknown) => isListOf(names, isName);
const isNotes = (notes: unknown) => isSingleLine(notes, LIMITS.notes);
const isExposure = (exposure: unknown) => isOneOf(exposure, EXPOSURES);
const isGatewayPath = (path: unknown) => isMatch(path, GATEWAY_PATH_PATTERN);
const isImage = (image: unknown) => isMatch(image, IMAGE_PATTERN);
const isTextList = (command: unknown) => isListOf(command, isSingleLineText);
const isVolume = (volume: unknown) =>
  isMatch(volume, VOLUME_PATTERN) && isVolumeInsideRepository(volume as string);
const isVolumeList = (volumes: unknown) => isListOf(volumes, isVolume);
const isRestart = (restart: unknown) => isOneOf(restart, RESTART_POLICIES);
const isDriver = (driver: unknown) => isOneOf(driver, NETWORK_DRIVERS);
const isNetworkDescription = (description: unknown) => isSingleLine(description, LIMITS.networkDescription);
const isGatewayUrl = (url: unknown) => isMatch(url, GATEWAY_URL_PATTERN);
const isSeverity = (setting: unknown) => isOneOf(setting, SEVERITY_SETTINGS);
const isAnyKey = () => true;
const isRules = (rules: unknown) => isRecordOf(rules, isAnyKey, isSeverity);
const isNetworks = (networks: unknown) => isRecordOf(networks, isNetworkName, isNetwork);
const isRange = (range: unknown) => isMatch(range, RANGE_PATTERN);

function isHealthcheck(value: unknown): boolean {
  if (!isPlainObject(value) || !hasOnlyKeys(value, KEYS.healthcheck)) return false;
  return (
    optional(value.endpoint, isEndpoint) &&
    optional(value.expected, isStatus) &&
    optional(value.command, isCommand) &&
    optional(value.interval, isDuration) &&
    optional(value.timeout, isDuration) &&
    optional(value.retries, isRetries) &&
    optional(value.startPeriod, isDuration)
  );
}

function isEnvText(value: unknown): boolean {
  return isSingleLineText(value) && (value as string).length <= LIMITS.envValue;
}

function isEnvValue(value: unknown): boolean {
  if (typeof value === "string") return isEnvText(value);
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && ENV_REFERENCE_KEYS.has(keys[0] as string) && isName(value[keys[0] as string]);
}

const isEnvName = (name: string) => ENV_NAME_PATTERN.test(name);

const isBuildArgs = (args: unknown) => isRecordOf(args, isEnvName, isEnvText);
const isEnvironment = (environment: unknown) => isRecordOf(environment, isEnvName, isEnvValue);

function isBuild(value: unknown): boolean {
  if (!isPlainObject(value) || !hasOnlyKeys(value, KEYS.build)) return false;
  return (
    isRepoPath(value.context) && optional(value.dockerfile, isRepoPath) && optional(value.args, isBuildArgs)
  );
}

function isService(value: unknown): boolean {
  if (!isPlainObject(value) || !hasOnlyKeys(value, KEYS.service)) return false;
  return (
    isName(value.name) &&
    isName(value.stack) &&
    isInteger(value.port, PORT_MIN, PORT_MAX) &&
    isOneOf(value.protocol, PROTOCOLS) &&
    isSingleLine(value.owner, LIMITS.owner) &&
    isSingleLine(value.description, LIMITS.description) &&
    optional(value.container, isBoolean) &&
    optional(value.network, isNetworkField) &&
    optional(value.containerPort, isContainerPort) &&
    optional(value.healthcheck, isHealthcheck) &&
    optional(value.depends_on, isNameList) &&
    optional(value.deprecated, isBoolean) &&
    optional(value.replacement, isName) &&
    optional(value.notes, isNotes) &&
    optional(value.exposure, isExposure) &&
    optional(value.gatewayPath, isGatewayPath) &&
    optional(value.image, isImage) &&
    optional(value.build, isBuild) &&
    optional(value.command, isTextList) &&
    optional(value.environment, isEnvironment) &&
    optional(value.volumes, isVolumeList) &&
    optional(value.restart, isRestart)
  );
}

function isNetwork(value: unknown): boolean {
  if (!isPlainObject(value) || !hasOnlyKeys(value, KEYS.network)) return false;
  return (
    optional(value.driver, isDriver) &&
    optional(value.external, isBoolean) &&
    optional(value.description, isNetworkDescription)
  );
}

/** True when valibot would accept `raw` and return it unchanged (see the module comment). */
export function isPlainValid(raw: unknown): raw is Registry {
  if (!isPlainObject(raw) || !hasOnlyKeys(raw, KEYS.root)) return false;
  return (
    isMatch(raw.version, VERSION_PATTERN) &&
    isMatch(raw.lastUpdated, ISO_DATE_PATTERN) &&
    isCalendarDate(raw.lastUpdated as string) &&
    optional(raw.gatewayUrl, isGatewayUrl) &&
    optional(raw.rules, isRules) &&
    optional(raw.networks, isNetworks) &&
    isRecordOf(raw.ranges, isName, isRange) &&
    isListOf(raw.services, isService)
  );
}

// One pass per registry: the optimizing compiler would cost more than it saves (see lib/jit.ts).
skipOptimizingCompiler(
  optional,
  isService,
  isHealthcheck,
  isBuild,
  isNetwork,
  isEnvValue,
  isEnvText,
  isRecordOf,
  isListOf,
  isName,
  isNetworkName,
  isSingleLine,
  isMatch,
  isInteger,
  isOneOf,
  hasOnlyKeys,
  isPlainObject,
);
