/**
 * Diagnostics are values: `{ file, line, col, rule, severity, message }`.
 * Every rule has a stable id and a default severity; a registry may override severities in its
 * top-level `rules:` map (the one documented place).
 */
import { compareCodeUnits } from "./derive.ts";

export type Severity = "error" | "warning";

export type Diagnostic = {
  file: string;
  line: number;
  col: number;
  rule: string;
  severity: Severity;
  message: string;
};

export type RuleInfo = { severity: Severity; summary: string; overridable: boolean };

/**
 * Every rule the validator knows. Load and schema rules cannot be silenced: the file would not mean
 * anything. Nor can the business rules whose breach sync would turn into broken files (two compose
 * services of one name, a stack with no file, a dependency cycle Compose refuses, a reference with
 * nothing to resolve to, one variable written twice).
 */
export const RULES = {
  // Reading and parsing
  "file-too-large": { severity: "error", summary: "the file exceeds the size cap", overridable: false },
  "file-encoding": { severity: "error", summary: "the file is not valid UTF-8", overridable: false },
  "yaml-syntax": { severity: "error", summary: "YAML syntax error", overridable: false },
  "yaml-too-deep": { severity: "error", summary: "nesting exceeds the depth cap", overridable: false },
  "yaml-duplicate-key": { severity: "error", summary: "a mapping repeats a key", overridable: false },
  "yaml-alias": { severity: "error", summary: "anchors and aliases are not allowed", overridable: false },
  "yaml-tag": { severity: "error", summary: "explicit tags are not allowed", overridable: false },
  "yaml-non-string-key": {
    severity: "error",
    summary: "mapping keys must be plain strings",
    overridable: false,
  },
  "yaml-ambiguous-scalar": {
    severity: "error",
    summary: "an unquoted value that YAML 1.1 reads differently (0755, no, 22:22, 2025-02-28)",
    overridable: false,
  },
  "yaml-directive": {
    severity: "warning",
    summary: "a %YAML directive is ignored; the file is read as YAML 1.2",
    overridable: true,
  },
  // Schema
  "schema-required": { severity: "error", summary: "a required field is missing", overridable: false },
  "schema-type": { severity: "error", summary: "a field has the wrong type", overridable: false },
  "schema-value": { severity: "error", summary: "a field's value is not allowed", overridable: false },
  "schema-unknown-key": {
    severity: "error",
    summary: "a key the schema does not know (use x- for extensions)",
    overridable: false,
  },
  "name-reserved": {
    severity: "error",
    summary: "a reserved name such as __proto__ or constructor",
    overridable: false,
  },
  "rule-unknown": { severity: "error", summary: "a rules: entry names no known rule", overridable: false },
  // Business rules
  "name-duplicate": { severity: "error", summary: "two services share a name", overridable: false },
  "port-duplicate": { severity: "error", summary: "two services share a port", overridable: true },
  "port-out-of-range": {
    severity: "error",
    summary: "a port lies outside its stack's range",
    overridable: true,
  },
  "port-ephemeral": {
    severity: "warning",
    summary: "a port lies in the Linux ephemeral range 32768-60999",
    overridable: true,
  },
  "stack-unknown": {
    severity: "error",
    summary: "a service names a stack that has no range",
    overridable: false,
  },
  "range-invalid": {
    severity: "error",
    summary: "a range is malformed, reversed or outside 1024-65535",
    overridable: true,
  },
  "range-overlap": { severity: "warning", summary: "two ranges overlap", overridable: true },
  "depends-missing": { severity: "error", summary: "depends_on names an unknown service", overridable: true },
  "depends-self": { severity: "error", summary: "a service depends on itself", overridable: false },
  "depends-cycle": { severity: "error", summary: "depends_on forms a cycle", overridable: false },
  "deprecated-no-replacement": {
    severity: "warning",
    summary: "a deprecated service names no replacement",
    overridable: true,
  },
  "replacement-missing": {
    severity: "error",
    summary: "a replacement names an unknown service",
    overridable: true,
  },
  "replacement-self": {
    severity: "error",
    summary: "a service names itself as its replacement",
    overridable: true,
  },
  "replacement-deprecated": {
    severity: "error",
    summary: "a replacement is itself deprecated",
    overridable: true,
  },
  "replacement-not-deprecated": {
    severity: "warning",
    summary: "a replacement is set on a service that is not deprecated",
    overridable: true,
  },
  "network-required": {
    severity: "error",
    summary: "a container service declares no network",
    overridable: true,
  },
  "network-undeclared": {
    severity: "error",
    summary: "a service uses a network missing from the networks: definitions",
    overridable: true,
  },
  "network-unused": {
    severity: "warning",
    summary: "a declared network is used by no service",
    overridable: true,
  },
  "network-isolated": {
    severity: "error",
    summary: "a container depends on a container it shares no network with",
    overridable: true,
  },
  "depends-internal": {
    severity: "warning",
    summary: "a native service depends on a container with exposure: internal, which the host cannot reach",
    overridable: true,
  },
  "list-duplicate": {
    severity: "error",
    summary: "a network, depends_on or volumes list repeats an entry (or a volume's container path)",
    overridable: false,
  },
  "depends-native": {
    severity: "warning",
    summary: "a container depends on a native (host) service",
    overridable: true,
  },
  "env-ref-missing": {
    severity: "error",
    summary: "an environment reference names an unknown service",
    overridable: false,
  },
  "env-ref-unreachable": {
    severity: "warning",
    summary: "an environment reference names a service that is not in depends_on",
    overridable: true,
  },
  "env-literal-endpoint": {
    severity: "error",
    summary:
      "a container's literal environment value reaches another service at localhost or on a port it does not listen on",
    overridable: true,
  },
  "container-fields-native": {
    severity: "warning",
    summary: "compose-only fields on a service that is not a container",
    overridable: true,
  },
  "gateway-path-missing": {
    severity: "error",
    summary: "exposure: gateway without a gatewayPath",
    overridable: true,
  },
  "gateway-path-unused": {
    severity: "warning",
    summary: "a gatewayPath on a service whose exposure is not gateway",
    overridable: true,
  },
  "gateway-path-duplicate": {
    severity: "error",
    summary: "two services share a gatewayPath",
    overridable: true,
  },
  "health-fragment": {
    severity: "warning",
    summary: "a healthcheck endpoint has a #fragment, which is never sent to the server",
    overridable: true,
  },
  "health-endpoint-protocol": {
    severity: "warning",
    summary: "an HTTP endpoint on a service whose protocol is not HTTP",
    overridable: true,
  },
  "env-name-collision": {
    severity: "error",
    summary: "two services derive the same .env.shared variable (api's API_GATEWAY_URL and api-gateway's)",
    overridable: false,
  },
  "env-name-reserved": {
    severity: "error",
    summary: "a service derives a variable the Docker tools read (a service named docker sets DOCKER_HOST)",
    overridable: false,
  },
} as const satisfies Record<string, RuleInfo>;

export type RuleId = keyof typeof RULES;

export function isRuleId(value: string): value is RuleId {
  return Object.hasOwn(RULES, value);
}

export type Position = { line: number; col: number };

export function createDiagnostic(
  file: string,
  position: Position,
  rule: RuleId,
  message: string,
): Diagnostic {
  return { file, line: position.line, col: position.col, rule, severity: RULES[rule].severity, message };
}

export type SeverityOverrides = Partial<Record<string, "error" | "warning" | "off">>;

/** Applies a registry's `rules:` map. Rules that are not overridable keep their severity. */
export function applySeverityOverrides(
  diagnostics: Diagnostic[],
  overrides: SeverityOverrides | undefined,
): Diagnostic[] {
  if (!overrides) return diagnostics;
  const result: Diagnostic[] = [];
  for (const diagnostic of diagnostics) {
    const setting = Object.hasOwn(overrides, diagnostic.rule) ? overrides[diagnostic.rule] : undefined;
    const info = isRuleId(diagnostic.rule) ? RULES[diagnostic.rule] : undefined;
    if (!setting || !info?.overridable) {
      result.push(diagnostic);
    } else if (setting !== "off") {
      result.push({ ...diagnostic, severity: setting });
    }
  }
  return result;
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    compareCodeUnits(a.file, b.file) ||
    a.line - b.line ||
    a.col - b.col ||
    compareCodeUnits(a.rule, b.rule) ||
    compareCodeUnits(a.message, b.message)
  );
}

/** Sorted by file, line and column, with exact duplicates removed. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const sorted = [...diagnostics].sort(compareDiagnostics);
  return sorted.filter(
    (diagnostic, index) =>
      index === 0 || compareDiagnostics(diagnostic, sorted[index - 1] as Diagnostic) !== 0,
  );
}

export function formatDiagnostic(diagnostic: Diagnostic): string {
  return `${diagnostic.file}:${diagnostic.line}:${diagnostic.col} ${diagnostic.severity} ${diagnostic.rule} ${diagnostic.message}`;
}

export function countBySeverity(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number } {
  let errors = 0;
  for (const diagnostic of diagnostics) if (diagnostic.severity === "error") errors++;
  return { errors, warnings: diagnostics.length - errors };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((diagnostic) => diagnostic.severity === "error");
}

export { editDistance, suggestClosest } from "./suggest.ts";
