/**
 * SARIF 2.1.0 for the scanner's findings, as GitHub code scanning accepts it: relative URIs against
 * %SRCROOT%, one rule descriptor per rule id, and a partial fingerprint per result. Pure.
 */
import { type Finding, SCAN_RULES, type ScanRuleId } from "./scan.ts";

export const SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json";

export type SarifLevel = "error" | "warning";

export type SarifLog = {
  $schema: string;
  version: "2.1.0";
  runs: {
    tool: { driver: { name: string; version: string; informationUri?: string; rules: SarifRule[] } };
    columnKind: "utf16CodeUnits";
    originalUriBaseIds: Record<string, { description: { text: string } }>;
    results: SarifResult[];
  }[];
};

type SarifRule = {
  id: string;
  name: string;
  shortDescription: { text: string };
  help: { text: string };
  defaultConfiguration: { level: SarifLevel };
};

type SarifResult = {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: { text: string };
  locations: {
    physicalLocation: {
      artifactLocation: { uri: string; uriBaseId: string };
      region: { startLine: number; startColumn: number; endColumn: number; snippet: { text: string } };
    };
  }[];
  partialFingerprints: Record<string, string>;
  properties: { port: number; kind: string; service?: string; replacement?: string };
};

const HELP =
  "Read the port from the registry's generated .env.shared (the message names the variable), or register the " +
  "port with `npm run ports:new`. To keep a literal port, add `ports:allow <reason>` in a comment on the line " +
  "or the line above, or record it in the baseline with `--update-baseline`.";

function toPascalCase(id: string): string {
  return id.replace(/(^|-)([a-z0-9])/g, (_, __, letter: string) => letter.toUpperCase());
}

export function encodeUri(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

export function renderSarif(
  findings: readonly Finding[],
  options: { level: SarifLevel; version: string },
): SarifLog {
  const ruleIds = Object.keys(SCAN_RULES) as ScanRuleId[];
  const rules: SarifRule[] = ruleIds.map((id) => ({
    id,
    name: toPascalCase(id),
    shortDescription: { text: SCAN_RULES[id] },
    help: { text: HELP },
    defaultConfiguration: { level: options.level },
  }));
  const results: SarifResult[] = findings.map((finding) => ({
    ruleId: finding.rule,
    ruleIndex: ruleIds.indexOf(finding.rule),
    level: options.level,
    message: { text: finding.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: encodeUri(finding.file), uriBaseId: "%SRCROOT%" },
          region: {
            startLine: finding.line,
            startColumn: finding.col,
            endColumn: finding.endCol,
            snippet: { text: finding.snippet },
          },
        },
      },
    ],
    partialFingerprints: { "portGovernance/v1": finding.fingerprint },
    properties: {
      port: finding.port,
      kind: finding.kind,
      ...(finding.service ? { service: finding.service } : {}),
      ...(finding.replacement ? { replacement: finding.replacement } : {}),
    },
  }));
  return {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "port-governance scan-hardcoded", version: options.version, rules } },
        columnKind: "utf16CodeUnits",
        originalUriBaseIds: { "%SRCROOT%": { description: { text: "The repository root" } } },
        results,
      },
    ],
  };
}
