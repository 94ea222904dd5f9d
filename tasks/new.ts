/**
 * `npm run ports:new`: adds a service to the registry without being able to break it.
 *
 * Each answer is checked with the registry schema's own rule as it is given; the port is
 * suggested from the stack's range and this machine's listeners; the entry is spliced into the
 * YAML (comments and formatting untouched), the whole registry is re-validated, written
 * atomically, and sync runs. Every question has a flag; without a terminal a missing required
 * answer is a usage error (exit 2), and Ctrl-C at any step exits 130 having written nothing.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import * as clack from "@clack/prompts";
import {
  checkPortChoice,
  describeStacks,
  listOwners,
  type PortSuggestion,
  parsePortText,
  suggestPort,
} from "../lib/allocate.ts";
import { describeFailure, EXIT, parseFlags } from "../lib/cli.ts";
import { deriveEnvNames, HTTP_PROTOCOLS, isContainer } from "../lib/derive.ts";
import { type Diagnostic, formatDiagnostic, hasErrors } from "../lib/diagnostics.ts";
import { IoError, UsageError } from "../lib/errors.ts";
import { type Listener, readListeners } from "../lib/listeners.ts";
import { DEFAULT_REGISTRY_PATH, displayPath, parseRegistry } from "../lib/load.ts";
import {
  cancelable,
  isInteractiveTerminal,
  PromptCancelledError,
  type PromptTerminal,
} from "../lib/prompts.ts";
import {
  buildEntry,
  checkField,
  checkHealthField,
  checkNetworkName,
  checkNewName,
  insertService,
  listNetworks,
  type NewEntry,
  renderEntry,
} from "../lib/registry-edit.ts";
import { composePathOf, OUTPUT_PATHS } from "../lib/render.ts";
import { PROTOCOLS, type Protocol, type Registry } from "../lib/schema.ts";
import { unifiedDiff } from "../lib/text-diff.ts";
import { validateParsed } from "../lib/validate.ts";
import { writeFileAtomic } from "../lib/write.ts";
import { formatSyncReport, run as runSync, type SyncReport } from "./sync.ts";

export const HELP = `Usage: bun tasks/new.ts [options]

Adds a service to the port registry: asks for each field (or takes it from a flag), suggests a
free port, shows the entry, writes the registry atomically and runs sync.

Options:
  --name NAME              service name (lowercase kebab-case, unique)
  --stack STACK            stack whose range the port comes from
  --port auto|N            port; auto (the default) takes the suggested one
  --allow-in-use           accept a --port a process listens on (the service itself, already running)
  --protocol PROTOCOL      ${PROTOCOLS.join(", ")}
  --owner TEXT             owning team
  --description TEXT       10-200 characters
  --container              the service runs in a container (--no-container: natively)
  --network NAME[,NAME]    container network(s); an unknown name is declared under networks:
                           (when the registry has that block)
  --depends-on NAME[,NAME] services it depends on ("" for none)
  --health-endpoint PATH   HTTP healthcheck path such as /health ("" for none; http and https only)
  --health-expected CODE   expected HTTP status (default 200)
  -y, --yes                write without asking for confirmation
  --dry-run                print the entry and the diff; write nothing
  --registry PATH          registry file, relative to the root (default: ${DEFAULT_REGISTRY_PATH})
  --root DIR               repository root (default: current directory)
  -h, --help               show this help

Without a terminal every required value must come from a flag, and --yes (or --dry-run) is needed.
Exit codes: 0 written (or dry run), 1 the registry is invalid before or after the change,
2 usage or I/O error (including the registry changing on disk meanwhile), 130 cancelled (Ctrl-C, or
no at the confirmation).`;

/** Answers given as flags. Strings as typed; checked like prompt answers. */
export type NewFlags = {
  name?: string;
  stack?: string;
  port?: string;
  protocol?: string;
  owner?: string;
  description?: string;
  container?: boolean;
  network?: string[];
  dependsOn?: string[];
  healthEndpoint?: string;
  healthExpected?: string;
  /** Accept a port a process already listens on: registering a service that already runs. */
  allowInUse?: boolean;
};

export type NewOptions = {
  root: string;
  registryPath?: string;
  flags: NewFlags;
  isInteractive: boolean;
  isYes?: boolean;
  isDryRun?: boolean;
  /** Where people-facing progress goes (clack renders prompts on stdout). */
  log?: (line: string) => void;
  /** Listeners on this machine; read from /proc when not given. */
  readListeners?: () => Listener[];
  /** The date written to lastUpdated (YYYY-MM-DD); today in UTC when not given. */
  today?: string;
};

export type NewResult = {
  registry: string;
  entry?: NewEntry;
  suggestion?: PortSuggestion;
  /** The declared network added for the entry, if any. */
  newNetwork?: string;
  diff: string;
  /** Diagnostics of the registry with the entry added (errors mean nothing was written). */
  diagnostics: Diagnostic[];
  /** Warnings the entry introduces (by rule and message, not present before). */
  newWarnings: Diagnostic[];
  isWritten: boolean;
  sync?: SyncReport;
  nextSteps: string[];
};

function hashOf(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function splitList(values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  return values
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter((value) => value !== "");
}

function requireValid(flag: string, value: string, problem: string | undefined): void {
  if (!problem) return;
  // The name and port checks, written for the prompt, name the value first ("3400 is already
  // registered"); after `--port "3400"` that would say it twice. Other messages start with a verb.
  const isNamedFirst = (flag === "--name" || flag === "--port") && problem.startsWith(`${value} `);
  const text = isNamedFirst ? problem.slice(value.length + 1) : problem;
  throw new UsageError(`${flag} "${value}" ${text}`);
}

type Context = {
  registry: Registry;
  allowInUse: boolean;
  terminal: PromptTerminal;
  listeners: () => Listener[];
  log: (line: string) => void;
};

async function askName(context: Context, flag: string | undefined): Promise<string> {
  if (flag !== undefined) {
    requireValid("--name", flag, checkNewName(context.registry, flag));
    return flag;
  }
  return cancelable(context.terminal, "--name", () =>
    clack.text({
      message: "Service name",
      placeholder: "orders-api",
      validate: (value) => checkNewName(context.registry, value ?? ""),
    }),
  );
}

async function askStack(context: Context, flag: string | undefined): Promise<string> {
  const stacks = describeStacks(context.registry);
  if (flag !== undefined) {
    if (!stacks.some((choice) => choice.stack === flag)) {
      throw new UsageError(
        `--stack "${flag}" has no range; choose one of ${stacks.map((s) => s.stack).join(", ")}`,
      );
    }
    return flag;
  }
  if (stacks.length === 0)
    throw new UsageError("the registry declares no ranges: add one under ranges: first");
  return cancelable(context.terminal, "--stack", () =>
    clack.select({
      message: "Stack",
      options: stacks.map((choice) => ({ value: choice.stack, label: choice.stack, hint: choice.hint })),
    }),
  );
}

async function askPort(
  context: Context,
  stack: string,
  flag: string | undefined,
): Promise<{ port: number; suggestion: PortSuggestion }> {
  const suggestion = suggestPort(context.registry, stack, context.listeners());
  const check = (text: string): string | undefined => {
    const parsed = parsePortText(text);
    if (parsed === undefined) return `"${text}" is not a port number`;
    if (parsed === "auto") return suggestion.port === undefined ? suggestion.explanation : undefined;
    return checkPortChoice(context.registry, stack, parsed, context.listeners(), {
      allowInUse: context.allowInUse,
    });
  };
  const resolvePort = (text: string): number => {
    const parsed = parsePortText(text);
    return parsed === "auto" || parsed === undefined ? (suggestion.port as number) : parsed;
  };
  if (flag !== undefined || !context.terminal.isInteractive) {
    const text = flag ?? "auto";
    if (parsePortText(text) === "auto") context.log(suggestion.explanation);
    requireValid("--port", text, check(text));
    return { port: resolvePort(text), suggestion };
  }
  clack.log.info(suggestion.explanation);
  const answer = await cancelable(context.terminal, "--port", () =>
    clack.text({
      message: "Port",
      initialValue: suggestion.port === undefined ? "" : String(suggestion.port),
      validate: (value) => check(value ?? ""),
    }),
  );
  return { port: resolvePort(answer), suggestion };
}

async function askProtocol(context: Context, flag: string | undefined): Promise<Protocol> {
  if (flag !== undefined) {
    requireValid("--protocol", flag, checkField("protocol", flag));
    return flag as Protocol;
  }
  return cancelable(context.terminal, "--protocol", () =>
    clack.select<Protocol>({
      message: "Protocol",
      initialValue: "http",
      options: PROTOCOLS.map((protocol) => ({ value: protocol, label: protocol })),
    }),
  );
}

const OTHER = "\u0000other";

async function askOwner(context: Context, flag: string | undefined): Promise<string> {
  if (flag !== undefined) {
    requireValid("--owner", flag, checkField("owner", flag));
    return flag;
  }
  const owners = listOwners(context.registry);
  if (owners.length > 0) {
    const picked = await cancelable(context.terminal, "--owner", () =>
      clack.select<string>({
        message: "Owner",
        options: [
          ...owners.map((owner) => ({ value: owner, label: owner })),
          { value: OTHER, label: "another team…" },
        ],
      }),
    );
    if (picked !== OTHER) return picked;
  }
  // Typed text is trimmed: the registry refuses free text that starts or ends with a space.
  const typed = await cancelable(context.terminal, "--owner", () =>
    clack.text({
      message: "Owning team",
      placeholder: "Platform Team",
      validate: (value) => checkField("owner", (value ?? "").trim()),
    }),
  );
  return typed.trim();
}

async function askDescription(context: Context, flag: string | undefined): Promise<string> {
  if (flag !== undefined) {
    requireValid("--description", flag, checkField("description", flag));
    return flag;
  }
  const typed = await cancelable(context.terminal, "--description", () =>
    clack.text({
      message: "Description (10-200 characters)",
      placeholder: "What it does, for the docs page",
      validate: (value) => checkField("description", (value ?? "").trim()),
    }),
  );
  return typed.trim();
}

async function askContainer(context: Context, flag: boolean | undefined): Promise<boolean> {
  if (flag !== undefined) return flag;
  return cancelable(context.terminal, "--container", () =>
    clack.confirm({ message: "Does it run in a container?", initialValue: true }),
  );
}

type NetworkAnswer = { network?: string | string[]; newNetworks: string[] };

async function askNetwork(
  context: Context,
  isContainerService: boolean,
  flag: string[] | undefined,
): Promise<NetworkAnswer> {
  const known = listNetworks(context.registry);
  // Without a networks: block nothing is declared, and declaring one network would start a block
  // that leaves every other service's network undeclared.
  const hasDeclarations = context.registry.networks !== undefined;
  const declared = new Set(Object.keys(context.registry.networks ?? {}));
  const isNew = (name: string) => hasDeclarations && !declared.has(name);
  if (flag !== undefined) {
    if (flag.length > 0 && !isContainerService) {
      throw new UsageError("--network applies to a container service; add --container");
    }
    for (const name of flag) requireValid("--network", name, checkNetworkName(name));
    const newNetworks = flag.filter(isNew);
    if (newNetworks.length > 1)
      throw new UsageError("--network may declare at most one new network at a time");
    if (flag.length === 0) return { newNetworks: [] };
    return { network: flag.length === 1 ? flag[0] : flag, newNetworks };
  }
  if (!isContainerService) return { newNetworks: [] };
  // One network or several (a service between a frontend and a backend network), as --network a,b.
  const picked = await cancelable(context.terminal, "--network", () =>
    clack.multiselect<string>({
      message: "Networks (space to select, enter to continue)",
      required: true,
      options: [
        ...known.map((name) => ({
          value: name,
          label: name,
          hint: context.registry.networks?.[name]?.description,
        })),
        { value: OTHER, label: "a new network…" },
      ],
    }),
  );
  const networks = known.filter((name) => picked.includes(name));
  if (picked.includes(OTHER)) {
    const name = await cancelable(context.terminal, "--network", () =>
      clack.text({
        message: "New network name",
        placeholder: "orders_net",
        validate: (value) =>
          checkNetworkName(value ?? "") ??
          (known.includes(value ?? "") ? `${value} already exists; pick it from the list` : undefined),
      }),
    );
    networks.push(name);
  }
  return { network: networks.length === 1 ? networks[0] : networks, newNetworks: networks.filter(isNew) };
}

async function askDependsOn(
  context: Context,
  flag: string[] | undefined,
  tryEntry: (dependsOn: string[]) => string | undefined,
): Promise<string[]> {
  const names = context.registry.services.map((service) => service.name);
  if (flag !== undefined) {
    for (const name of flag) {
      if (!names.includes(name)) throw new UsageError(`--depends-on "${name}" is not a registered service`);
    }
    return flag;
  }
  if (!context.terminal.isInteractive || names.length === 0) return [];
  let selected: string[] = [];
  for (;;) {
    const initialValues = selected;
    selected = await cancelable(context.terminal, "--depends-on", () =>
      clack.multiselect<string>({
        message: "Depends on (space to select, enter to continue)",
        required: false,
        initialValues,
        options: context.registry.services.map((service) => ({
          value: service.name,
          label: service.name,
          hint: `${service.stack} :${service.port}`,
        })),
      }),
    );
    // The registry's own rules judge the choice, for example a container in no shared network.
    const problem = tryEntry(selected);
    if (!problem) return names.filter((name) => selected.includes(name));
    clack.log.error(problem);
  }
}

async function askHealthcheck(
  context: Context,
  protocol: string,
  endpointFlag: string | undefined,
  expectedFlag: string | undefined,
): Promise<NewEntry["healthcheck"]> {
  if (!HTTP_PROTOCOLS.includes(protocol as never)) {
    // Compose and ports:health check other protocols by their own probe; an endpoint would be ignored.
    if (endpointFlag)
      throw new UsageError(`--health-endpoint applies to http and https services, not ${protocol}`);
    if (expectedFlag !== undefined) throw new UsageError("--health-expected needs --health-endpoint");
    return undefined;
  }
  const checkExpected = (text: string): string | undefined =>
    /^\d{1,4}$/.test(text.trim())
      ? checkHealthField("expected", Number(text))
      : "must be an HTTP status 100-599";
  let endpoint = endpointFlag;
  if (endpoint !== undefined) {
    if (endpoint !== "") requireValid("--health-endpoint", endpoint, checkHealthField("endpoint", endpoint));
  } else if (context.terminal.isInteractive) {
    endpoint = await cancelable(context.terminal, "--health-endpoint", () =>
      clack.text({
        message: "Healthcheck endpoint (empty for none)",
        placeholder: "/health",
        validate: (value) => (value ? checkHealthField("endpoint", value) : undefined),
      }),
    );
  }
  if (!endpoint) {
    if (expectedFlag !== undefined) throw new UsageError("--health-expected needs --health-endpoint");
    return undefined;
  }
  let expected = expectedFlag;
  if (expected !== undefined) {
    requireValid("--health-expected", expected, checkExpected(expected));
  } else if (context.terminal.isInteractive) {
    expected = await cancelable(context.terminal, "--health-expected", () =>
      clack.text({
        message: "Expected HTTP status",
        initialValue: "200",
        validate: (value) => checkExpected(value ?? ""),
      }),
    );
  }
  return { endpoint, expected: Number(expected ?? "200") };
}

/** Required answers that have neither a flag nor a terminal to ask on, all at once. */
function findMissingFlags(options: NewOptions): string[] {
  if (options.isInteractive) return [];
  const flags = options.flags;
  const missing: string[] = [];
  for (const [key, flag] of [
    ["name", "--name"],
    ["stack", "--stack"],
    ["protocol", "--protocol"],
    ["owner", "--owner"],
    ["description", "--description"],
  ] as const) {
    if (flags[key] === undefined) missing.push(flag);
  }
  // The terminal's question starts at yes; without one, no silent default either way.
  if (flags.container === undefined) missing.push("--container or --no-container");
  if (flags.container === true && flags.network === undefined) missing.push("--network");
  if (!options.isYes && !options.isDryRun) missing.push("--yes (or --dry-run)");
  return missing;
}

function findNewWarnings(before: readonly Diagnostic[], after: readonly Diagnostic[]): Diagnostic[] {
  const known = new Set(before.map((diagnostic) => `${diagnostic.rule} ${diagnostic.message}`));
  return after.filter(
    (diagnostic) =>
      diagnostic.severity === "warning" && !known.has(`${diagnostic.rule} ${diagnostic.message}`),
  );
}

function describeNextSteps(entry: NewEntry, registryFile: string): string[] {
  const env = deriveEnvNames(entry);
  const steps = [
    `review the change: git diff (${registryFile} and the files sync updated)`,
    `read ${env.port} / ${env.url} from ${OUTPUT_PATHS.env} instead of writing ${entry.port} anywhere`,
  ];
  if (isContainer(entry)) {
    steps.push(
      `start it: docker compose --env-file ${OUTPUT_PATHS.env} -f ${composePathOf(entry.stack)} up -d ${entry.name} (fill in image or build first)`,
    );
  }
  steps.push("check this machine: npm run ports:doctor");
  steps.push(`commit ${registryFile} together with the generated files`);
  return steps;
}

export async function run(options: NewOptions): Promise<NewResult> {
  const root = resolve(options.root);
  const registryPath = resolve(root, options.registryPath ?? DEFAULT_REGISTRY_PATH);
  const registryFile = displayPath(registryPath, root);
  const log = options.log ?? (() => {});
  const terminal: PromptTerminal = { isInteractive: options.isInteractive };
  const missing = findMissingFlags(options);
  if (missing.length > 0) {
    throw new UsageError(`missing ${missing.join(", ")}: there is no terminal to ask on (see --help)`);
  }

  let source: string;
  try {
    source = await readFile(registryPath, "utf8");
  } catch (error) {
    throw new IoError(
      `${registryFile}: cannot read the registry (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  const sourceHash = hashOf(source);
  const before = validateParsed(parseRegistry(source, registryFile));
  const result: NewResult = {
    registry: registryFile,
    diff: "",
    diagnostics: [],
    newWarnings: [],
    isWritten: false,
    nextSteps: [],
  };
  if (!before.registry) return { ...result, diagnostics: before.diagnostics };
  const registry = before.registry;
  const today = options.today ?? new Date().toISOString().slice(0, 10);
  const context: Context = {
    registry,
    allowInUse: options.flags.allowInUse === true,
    terminal,
    listeners: options.readListeners ?? (() => readListeners()),
    log,
  };

  const flags = options.flags;
  const name = await askName(context, flags.name);
  const stack = await askStack(context, flags.stack);
  const { port, suggestion } = await askPort(context, stack, flags.port);
  const protocol = await askProtocol(context, flags.protocol);
  const owner = await askOwner(context, flags.owner);
  const description = await askDescription(context, flags.description);
  const container = await askContainer(context, flags.container);
  const { network, newNetworks } = await askNetwork(context, container, flags.network);

  const plan = (answers: NewEntry) => {
    const entry = buildEntry(answers);
    const newNetwork = newNetworks[0];
    const inserted = insertService(source, entry, {
      today,
      newNetwork: newNetwork ? { name: newNetwork, description: `Network of ${entry.name}` } : undefined,
    });
    const validation = validateParsed(parseRegistry(inserted.text, registryFile));
    return { entry, text: inserted.text, validation };
  };
  const base: NewEntry = { name, stack, port, protocol, owner, description, container, network };
  // Only a problem the chosen dependencies cause can be fixed at that prompt: asking again for
  // one they do not cause would never end. Any other error stops the run after the last prompt.
  const errorsOf = (dependsOn: string[]) =>
    plan({ ...base, depends_on: dependsOn }).validation.diagnostics.filter(
      (diagnostic) => diagnostic.severity === "error",
    );
  let withoutDependencies: Set<string> | undefined;
  const depends_on = await askDependsOn(context, flags.dependsOn, (dependsOn) => {
    withoutDependencies ??= new Set(
      errorsOf([]).map((diagnostic) => `${diagnostic.rule}\0${diagnostic.message}`),
    );
    const known = withoutDependencies;
    const caused = errorsOf(dependsOn).find(
      (diagnostic) => !known.has(`${diagnostic.rule}\0${diagnostic.message}`),
    );
    return caused?.message;
  });
  const healthcheck = await askHealthcheck(context, protocol, flags.healthEndpoint, flags.healthExpected);

  const { entry, text, validation } = plan({ ...base, depends_on, healthcheck });
  const diff = unifiedDiff(source, text, registryFile);
  Object.assign(result, {
    entry,
    suggestion,
    diff,
    diagnostics: validation.diagnostics,
    newWarnings: findNewWarnings(before.diagnostics, validation.diagnostics),
    newNetwork: newNetworks[0],
  });
  if (hasErrors(validation.diagnostics) || options.isDryRun) return result;

  if (options.isInteractive && !options.isYes) {
    clack.note(renderEntry(entry).trimEnd(), `New entry for ${registryFile}`);
    const isConfirmed = await cancelable(terminal, "--yes", () =>
      clack.confirm({ message: `Write it to ${registryFile} and run sync?`, initialValue: true }),
    );
    if (!isConfirmed) throw new PromptCancelledError("not confirmed; nothing was written");
  }

  const current = await readFile(registryPath, "utf8").catch(() => "");
  if (hashOf(current) !== sourceHash) {
    throw new IoError(
      `${registryFile} changed on disk while ports:new was open; nothing was written, run it again`,
    );
  }
  const { mode } = await stat(registryPath);
  await writeFileAtomic(root, registryFile, text, mode & 0o777);
  try {
    result.sync = await runSync({ root, registryPath: options.registryPath });
  } catch (error) {
    // Sync changed nothing (it writes all or nothing): put the registry back, so the run as a
    // whole changes nothing either, rather than leave an entry whose files were never generated.
    await writeFileAtomic(root, registryFile, source, mode & 0o777);
    throw error;
  }
  result.isWritten = true;
  result.nextSteps = describeNextSteps(entry, registryFile);
  return result;
}

export function exitCodeOf(result: NewResult): number {
  if (hasErrors(result.diagnostics)) return EXIT.findings;
  if (result.sync && !result.sync.isValid) return EXIT.findings;
  return EXIT.ok;
}

/** The plain-text account of a run, for flags-only use and for the end of the wizard. */
export function formatNewResult(
  result: NewResult,
  options: { isDryRun: boolean; isInteractive: boolean },
): {
  stdout: string;
  stderr: string;
} {
  const out: string[] = [];
  const err: string[] = [];
  if (!result.entry) {
    err.push(...result.diagnostics.map(formatDiagnostic));
    err.push(`new: ${result.registry} has errors; fix them first (npm run ports:validate)`);
    return { stdout: "", stderr: `${err.join("\n")}\n` };
  }
  if (hasErrors(result.diagnostics)) {
    err.push(...result.diagnostics.map(formatDiagnostic));
    err.push(`new: adding ${result.entry.name} would make ${result.registry} invalid; nothing was written`);
    return { stdout: "", stderr: `${err.join("\n")}\n` };
  }
  err.push(...result.newWarnings.map(formatDiagnostic));
  if (!options.isInteractive || options.isDryRun) out.push(renderEntry(result.entry).trimEnd());
  if (options.isDryRun) {
    out.push("", result.diff.trimEnd(), "", "new: dry run; nothing was written");
    return { stdout: `${out.join("\n")}\n`, stderr: err.length ? `${err.join("\n")}\n` : "" };
  }
  if (result.isWritten) {
    out.push(`new: wrote ${result.entry.name} (port ${result.entry.port}) to ${result.registry}`);
    if (result.newNetwork) out.push(`new: declared network ${result.newNetwork}`);
  }
  if (result.sync) {
    const sync = formatSyncReport(result.sync);
    if (sync.stdout) out.push(sync.stdout.trimEnd());
    if (sync.stderr) err.push(sync.stderr.trimEnd());
  }
  if (result.nextSteps.length > 0) {
    out.push("", "Next steps:", ...result.nextSteps.map((step, index) => `  ${index + 1}. ${step}`));
  }
  return { stdout: out.length ? `${out.join("\n")}\n` : "", stderr: err.length ? `${err.join("\n")}\n` : "" };
}

/** The end of a successful wizard run, in clack's frame. */
function showWritten(result: NewResult, entry: NewEntry): void {
  for (const warning of result.newWarnings) clack.log.warn(formatDiagnostic(warning));
  clack.log.success(`wrote ${entry.name} (port ${entry.port}) to ${result.registry}`);
  if (result.newNetwork) clack.log.info(`declared network ${result.newNetwork}`);
  if (result.sync) clack.log.step(formatSyncReport(result.sync).stdout.trimEnd());
  clack.note(result.nextSteps.map((step, index) => `${index + 1}. ${step}`).join("\n"), "Next steps");
  clack.outro(`${entry.name} is registered on port ${entry.port}`);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    name: { type: "string" },
    stack: { type: "string" },
    port: { type: "string" },
    protocol: { type: "string" },
    owner: { type: "string" },
    description: { type: "string" },
    container: { type: "boolean" },
    "no-container": { type: "boolean" },
    network: { type: "string", multiple: true },
    "depends-on": { type: "string", multiple: true },
    "health-endpoint": { type: "string" },
    "health-expected": { type: "string" },
    "allow-in-use": { type: "boolean" },
    yes: { type: "boolean", short: "y" },
    "dry-run": { type: "boolean" },
    registry: { type: "string" },
    root: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
  if (values.container && values["no-container"])
    throw new UsageError("pass either --container or --no-container");
  const isInteractive = isInteractiveTerminal(process.stdin, process.stdout);
  const isDryRun = values["dry-run"] === true;
  if (isInteractive) clack.intro("ports:new · add a service to the port registry");
  const result = await closeFrameOnError(isInteractive, () =>
    run({
      root: values.root ?? process.cwd(),
      registryPath: values.registry,
      isInteractive,
      isYes: values.yes,
      isDryRun,
      log: (line) => (isInteractive ? clack.log.info(line) : process.stdout.write(`new: ${line}\n`)),
      flags: {
        name: values.name,
        stack: values.stack,
        port: values.port,
        protocol: values.protocol,
        owner: values.owner,
        description: values.description,
        container: values.container ? true : values["no-container"] ? false : undefined,
        network: splitList(values.network),
        dependsOn: splitList(values["depends-on"]),
        healthEndpoint: values["health-endpoint"],
        healthExpected: values["health-expected"],
        allowInUse: values["allow-in-use"],
      },
    }),
  );
  const code = exitCodeOf(result);
  if (isInteractive && result.isWritten && result.entry && code === EXIT.ok) {
    showWritten(result, result.entry);
    return code;
  }
  const { stdout, stderr } = formatNewResult(result, { isDryRun, isInteractive });
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  if (isInteractive && code !== EXIT.ok)
    clack.cancel(result.isWritten ? "sync failed" : "nothing was written");
  if (isInteractive && code === EXIT.ok && isDryRun) clack.outro("dry run: nothing was written");
  return code;
}

/** The prompt frame is closed on an error too (the task prints the error line after it). */
async function closeFrameOnError<T>(isInteractive: boolean, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isInteractive && !(error instanceof PromptCancelledError)) clack.cancel("nothing was written");
    throw error;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      if (error instanceof PromptCancelledError) {
        clack.cancel(`Cancelled: ${error.message}`);
        process.exitCode = EXIT.interrupted;
        return;
      }
      const failure = describeFailure("new", error);
      console.error(failure.text);
      process.exitCode = failure.exitCode;
    },
  );
}
