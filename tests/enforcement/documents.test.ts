/**
 * Every ```sh block of the adoption documents runs, command by command, in a fresh copy of the
 * toolkit (a git repository with its hooks installed), in a developer's environment: no CI, and no
 * node_modules/.bin on PATH, so `npm run` and `npx` must work as written. Other fences (yaml,
 * console, text) are illustrations and are not run. The few commands that cannot run here are
 * listed below with the reason.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createToolkitRepo, TOOLKIT_ROOT, type ToolkitRepo } from "./toolkit-repo.ts";

// Each test spawns git commits and their hooks; on a loaded 2-core machine that takes seconds.
setDefaultTimeout(60_000);

const DOCUMENTS = [
  "config/ports/README.md",
  "docs/content/reference/adrs/015-port-governance.md",
  "MIGRATION.md",
  "TROUBLESHOOTING.md",
];

/** Commands that are shown but not run, and why. */
const NOT_RUN = new Map([["npm run ports:smoke", "needs a Docker engine; .ci/run's smoke gate runs it"]]);

/** Commands whose documented outcome includes a non-zero exit. */
const ACCEPTED_EXIT_CODES = new Map([
  // 1 means a conflict on this machine, which the document explains how to resolve.
  ["npm run ports:doctor", [0, 1]],
]);

/** The commands of each ```sh block: one per line, `#` comments and blank lines dropped. */
export function extractShellCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const match of markdown.matchAll(/^( *)```sh\n([\s\S]*?)^\1```$/gm)) {
    const indent = match[1]?.length ?? 0;
    for (const line of (match[2] ?? "").split("\n")) {
      const command = line.slice(indent).trim();
      if (command !== "" && !command.startsWith("#")) commands.push(command);
    }
  }
  return commands;
}

const repos: ToolkitRepo[] = [];
afterAll(() => {
  for (const repo of repos) repo.remove();
});

test("the extractor finds indented blocks and skips other fences", () => {
  const markdown = [
    "```sh",
    "npm run a",
    "# a comment",
    "",
    "npm run b",
    "```",
    "```yaml",
    "run: not a command",
    "```",
    "1. step",
    "",
    "   ```sh",
    "   npm run c",
    "   ```",
  ].join("\n");
  expect(extractShellCommands(markdown)).toEqual(["npm run a", "npm run b", "npm run c"]);
});

test("every command that is not run is still in a document", () => {
  const all = DOCUMENTS.flatMap((path) =>
    extractShellCommands(readFileSync(join(TOOLKIT_ROOT, path), "utf8")),
  );
  for (const command of [...NOT_RUN.keys(), ...ACCEPTED_EXIT_CODES.keys()]) expect(all).toContain(command);
});

/** The README's enforcement section, which links to the hooks, the workflow and the documents. */
function readEnforcementSection(): string {
  const readme = readFileSync(join(TOOLKIT_ROOT, "README.md"), "utf8");
  const start = readme.indexOf("<!-- section:enforcement -->");
  const end = readme.indexOf("<!-- /section:enforcement -->");
  if (start < 0 || end < start) throw new Error("README.md has no enforcement section");
  return readme.slice(start, end);
}

test("every relative link in the documents and the README's section points at a file that exists", () => {
  const sources = [
    ...DOCUMENTS.map((path) => ({ path, text: readFileSync(join(TOOLKIT_ROOT, path), "utf8") })),
    { path: "README.md", text: readEnforcementSection() },
  ];
  const links = sources.flatMap(({ path, text }) =>
    [...text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map((match) => match[1] ?? "")
      .filter((target) => !/^[a-z]+:/.test(target))
      .map((target) => join(dirname(path), target)),
  );
  expect(links.length).toBeGreaterThan(0);
  expect(links.filter((link) => !existsSync(join(TOOLKIT_ROOT, link)))).toEqual([]);
});

for (const path of DOCUMENTS) {
  describe(path, () => {
    const commands = extractShellCommands(readFileSync(join(TOOLKIT_ROOT, path), "utf8"));

    test("has commands to run", () => {
      expect(commands.length).toBeGreaterThan(0);
    });

    test("every sh command succeeds, in order, in a fresh copy of the toolkit", () => {
      const repo = createToolkitRepo({ hasHooks: true, prefix: "port-governance-docs-" });
      repos.push(repo);
      for (const command of commands) {
        if (NOT_RUN.has(command)) continue;
        const result = repo.run(["bash", "-c", command]);
        const accepted = ACCEPTED_EXIT_CODES.get(command) ?? [0];
        if (!accepted.includes(result.exitCode)) {
          throw new Error(`${path}: \`${command}\` exited ${result.exitCode}:\n${result.output}`);
        }
        expect(result.output).not.toContain("internal error");
      }
    });
  });
}
