/**
 * Validation: parse diagnostics, schema diagnostics and business rules, with the registry's
 * severity overrides applied, sorted by position.
 */
import { applySeverityOverrides, type Diagnostic, hasErrors, sortDiagnostics } from "./diagnostics.ts";
import { loadRegistry, type ParsedRegistry } from "./load.ts";
import { type CheckMode, runRules } from "./rules.ts";
import type { Registry } from "./schema.ts";

export type ValidationResult = {
  file: string;
  /** The typed registry when there are no errors; generators only ever see a valid registry. */
  registry?: Registry;
  diagnostics: Diagnostic[];
  isValid: boolean;
};

const PARSE_RULES = /^(?:yaml-|file-)/;
const SCHEMA_RULES = /^(?:schema-|name-reserved$|rule-unknown$)/;

export function validateParsed(parsed: ParsedRegistry, mode: CheckMode = "all"): ValidationResult {
  const names = new Set<string>();
  for (const service of parsed.partial.services) if (service.name) names.add(service.name);
  const fromLoad = parsed.diagnostics.filter(
    (diagnostic) =>
      mode === "all" || PARSE_RULES.test(diagnostic.rule) || !SCHEMA_RULES.test(diagnostic.rule),
  );
  const isParsed = !parsed.diagnostics.some(
    (d) => d.rule === "yaml-syntax" || d.rule === "file-too-large" || d.rule === "yaml-too-deep",
  );
  const fromRules = isParsed
    ? runRules({ file: parsed.file, registry: parsed.partial, names, locate: parsed.locate }, mode)
    : [];
  const diagnostics = sortDiagnostics(
    applySeverityOverrides([...fromLoad, ...fromRules], parsed.partial.rules),
  );
  const isValid = !hasErrors(diagnostics);
  return {
    file: parsed.file,
    registry: isValid && parsed.registry ? parsed.registry : undefined,
    diagnostics,
    isValid,
  };
}

export async function validateRegistryFile(
  path: string,
  root: string,
  mode: CheckMode = "all",
): Promise<ValidationResult> {
  return validateParsed(await loadRegistry(path, root), mode);
}
