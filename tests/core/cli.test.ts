/**
 * The tasks' flag parser: strict, one usage line per mistake, with a did-you-mean.
 */
import { describe, expect, test } from "bun:test";
import { parseFlags } from "../../lib/cli.ts";
import { UsageError } from "../../lib/errors.ts";

const OPTIONS = {
  json: { type: "boolean" },
  registry: { type: "string" },
  service: { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

describe("parseFlags", () => {
  test("reads booleans, values in both spellings, repeated values, short flags and positionals", () => {
    expect(
      parseFlags(
        ["--json", "--registry", "a.yaml", "--service=x", "--service", "y", "-h", "file", "--", "--raw"],
        OPTIONS,
        true,
      ),
    ).toEqual({
      values: { json: true, registry: "a.yaml", service: ["x", "y"], help: true },
      positionals: ["file", "--raw"],
    });
  });

  test("the last value of a repeated single flag wins; an empty value after = is a value", () => {
    expect(parseFlags(["--registry", "a", "--registry=", "-"], OPTIONS, true)).toEqual({
      values: { registry: "" },
      positionals: ["-"],
    });
  });

  test.each([
    [["--jsn"], "unknown option --jsn (did you mean --json?); see --help"],
    [["--zzzzzz"], "unknown option --zzzzzz; see --help"],
    [["-x"], "unknown option -x; see --help"],
    [["--registry"], "--registry needs a value; see --help"],
    [
      ["--registry", "--json"],
      "--registry needs a value (write --registry=--json for a value that starts with -); see --help",
    ],
    [["--json=yes"], "--json takes no value; see --help"],
    [["stray"], 'unexpected argument "stray"; see --help'],
    [["--constructor"], "unknown option --constructor; see --help"],
  ])("%j is a usage error: %s", (argv, message) => {
    expect(() => parseFlags(argv, OPTIONS)).toThrow(new UsageError(message));
  });
});
