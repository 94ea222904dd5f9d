/**
 * The scanner's baseline: fingerprints of findings a team accepted for now, so it can adopt the
 * scanner before fixing every old port. A fingerprint hashes the pattern kind, path, normalised line
 * content and occurrence index: never the line number, so unrelated edits above a finding keep it
 * baselined, and never the rule, which changes when the port is registered.
 *
 * The file holds no source text and no port numbers, so scanning it finds nothing.
 */
import { lstatSync, readFileSync, realpathSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { compareCodeUnits } from "./compare.ts";
import { ConfigError, IoError } from "./errors.ts";
import type { Finding } from "./scan.ts";

export const BASELINE_VERSION = 2;
/** Version 1 fingerprints hashed the rule, which the registry decides; they match nothing now. */
const RULE_BASED_VERSION = 1;

export type BaselineEntry = { fingerprint: string; kind: string; file: string };

export type BaselineFile = {
  version: typeof BASELINE_VERSION;
  _comment: string;
  findings: BaselineEntry[];
};

export function renderBaseline(findings: readonly Finding[]): string {
  const entries = findings
    .map((finding) => ({ fingerprint: finding.fingerprint, kind: finding.kind, file: finding.file }))
    .sort(
      (a, b) =>
        compareCodeUnits(a.file, b.file) ||
        compareCodeUnits(a.kind, b.kind) ||
        compareCodeUnits(a.fingerprint, b.fingerprint),
    );
  const document: BaselineFile = {
    version: BASELINE_VERSION,
    _comment:
      "Accepted hardcoded-port findings. Regenerate with: npm run ports:scan-hardcoded -- --update-baseline",
    findings: entries.filter(
      (entry, index) => index === 0 || entry.fingerprint !== entries[index - 1]?.fingerprint,
    ),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

export function parseBaseline(source: string, file: string): Set<string> {
  let data: unknown;
  try {
    data = JSON.parse(source);
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message.split("\n")[0]})`);
  }
  const findings = (data as Partial<BaselineFile> | null)?.findings;
  const version: unknown = (data as { version?: unknown } | null)?.version;
  if (version === RULE_BASED_VERSION && isBaselineData(data)) {
    throw new ConfigError(
      `${file}: written by an earlier scanner, whose fingerprints changed when a port was registered; record it again with --update-baseline`,
    );
  }
  if (version !== BASELINE_VERSION || !isBaselineData(data) || !Array.isArray(findings)) {
    throw new ConfigError(
      `${file}: not a scanner baseline (expected version ${BASELINE_VERSION} and a findings list)`,
    );
  }
  const fingerprints = new Set<string>();
  for (const entry of findings) {
    if (typeof entry?.fingerprint !== "string")
      throw new ConfigError(`${file}: every finding needs a fingerprint string`);
    fingerprints.add(entry.fingerprint);
  }
  return fingerprints;
}

export function readBaseline(root: string, path: string): Set<string> {
  try {
    return parseBaseline(readFileSync(resolve(root, path), "utf8"), path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new IoError(`${path}: no baseline yet; create it with --update-baseline`);
    if (code) throw new IoError(`${path}: cannot read the baseline (${code})`);
    throw error;
  }
}

export type BaselineSplit = { kept: Finding[]; baselined: number; stale: number };

export function applyBaseline(
  findings: readonly Finding[],
  fingerprints: ReadonlySet<string>,
): BaselineSplit {
  const kept: Finding[] = [];
  const matched = new Set<string>();
  for (const finding of findings) {
    if (fingerprints.has(finding.fingerprint)) matched.add(finding.fingerprint);
    else kept.push(finding);
  }
  return { kept, baselined: findings.length - kept.length, stale: fingerprints.size - matched.size };
}

const BASELINE_KEYS = new Set(["version", "_comment", "findings"]);

/** The shape of a baseline of any version: a version, a findings list, and no other keys. */
function isBaselineData(data: unknown): boolean {
  if (!data || typeof data !== "object" || Array.isArray(data)) return false;
  const record = data as Record<string, unknown>;
  return (
    Object.keys(record).every((key) => BASELINE_KEYS.has(key)) &&
    typeof record.version === "number" &&
    Array.isArray(record.findings)
  );
}

/**
 * What an update may replace: a baseline of any version, an empty file, or a baseline that a merge
 * left with conflict markers. Never another file: a report, the registry, a JSON-with-comments
 * config such as tsconfig.json.
 */
function isReplaceable(source: string): boolean {
  if (source.trim() === "") return true;
  try {
    return isBaselineData(JSON.parse(source));
  } catch {
    return /^<{7} /m.test(source) && /^>{7} /m.test(source) && source.includes('"fingerprint"');
  }
}

/**
 * Atomic, confined write: a temp file beside the target, then rename; never through a symlink or
 * out of the root, and never over a file that is not a baseline (`--baseline` naming the registry).
 */
export function writeBaseline(root: string, path: string, content: string): void {
  const target = resolve(root, path);
  const realRoot = realpathSync(root);
  let realDirectory: string;
  try {
    realDirectory = realpathSync(dirname(target));
  } catch {
    throw new IoError(`${path}: its directory does not exist`);
  }
  if (realDirectory !== realRoot && !realDirectory.startsWith(realRoot + sep)) {
    throw new IoError(`${path}: resolves outside the root`);
  }
  try {
    const info = lstatSync(target);
    if (info.isSymbolicLink()) throw new IoError(`${path}: refusing to write through a symlink`);
    if (!info.isFile() || !isReplaceable(readFileSync(target, "utf8"))) {
      throw new IoError(`${path}: exists and is not a scanner baseline; refusing to overwrite it`);
    }
  } catch (error) {
    if (error instanceof IoError) throw error;
  }
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, content, { flag: "wx" });
    renameSync(temporary, target);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // already gone
    }
    throw new IoError(
      `${path}: cannot write the baseline (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}
