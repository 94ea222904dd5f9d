/**
 * The scanner's own settings: `config/ports/scan.yaml` (optional). Every ignore glob carries a
 * reason, as an inline marker does.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type * as Valibot from "valibot";
import { ConfigError, IoError } from "./errors.ts";
import { PORT_MIN } from "./registry-constants.ts";

export const DEFAULT_SCAN_CONFIG_PATH = "config/ports/scan.yaml";
/** Lower ports (80, 443, 22) are well-known service ports that no registry entry can own. */
export const DEFAULT_MIN_PORT = PORT_MIN;
export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024;

/** Built on first use: a scan without a settings file never loads valibot. */
function createScanConfigSchema() {
  const v = require("valibot") as typeof Valibot;
  const ignoreEntrySchema = v.strictObject({
    path: v.pipe(v.string("must be a glob string"), v.minLength(1, "must not be empty")),
    reason: v.pipe(v.string("must be a string"), v.minLength(3, "must say why (at least 3 characters)")),
  });
  return v.strictObject({
    ignore: v.optional(v.array(ignoreEntrySchema, "must be a list of { path, reason }")),
    minPort: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535))),
    maxFileBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024))),
    baseline: v.optional(v.pipe(v.string(), v.minLength(1))),
  });
}

export type ScanConfig = {
  /** Path as written in messages, or undefined when the file does not exist. */
  file?: string;
  ignore: { path: string; reason: string }[];
  minPort: number;
  maxFileBytes: number;
  baseline?: string;
};

export function parseScanConfig(source: string, file: string): ScanConfig {
  // Bun's native YAML parser: the settings are small and flat, and loading `yaml` would cost a
  // pre-commit hook more than the scan itself.
  let data: unknown;
  try {
    data = Bun.YAML.parse(source);
  } catch (error) {
    throw new ConfigError(`${file}: ${(error as Error).message.split("\n")[0] ?? "invalid YAML"}`);
  }
  const v = require("valibot") as typeof Valibot;
  const parsed = v.safeParse(createScanConfigSchema(), data ?? {});
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue.path?.map((item) => String(item.key)).join(".") ?? "(root)";
    throw new ConfigError(`${file}: ${where} ${issue.message}`);
  }
  const config = parsed.output;
  return {
    file,
    ignore: config.ignore ?? [],
    minPort: config.minPort ?? DEFAULT_MIN_PORT,
    maxFileBytes: config.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    ...(config.baseline ? { baseline: config.baseline } : {}),
  };
}

/** The settings file, or the defaults when it does not exist and was not asked for by name. */
export function loadScanConfig(root: string, path: string | undefined): ScanConfig {
  const file = path ?? DEFAULT_SCAN_CONFIG_PATH;
  const absolute = resolve(root, file);
  let source: string;
  try {
    source = readFileSync(absolute, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && path === undefined)
      return { ignore: [], minPort: DEFAULT_MIN_PORT, maxFileBytes: DEFAULT_MAX_FILE_BYTES };
    throw new IoError(`${file}: cannot read the scanner settings (${code ?? "error"})`);
  }
  return parseScanConfig(source, file);
}
