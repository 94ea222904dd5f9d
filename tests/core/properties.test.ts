/**
 * Properties (fast-check): no input crashes the validator; valid registries drawn from arbitraries
 * render deterministically, independent of service order, into files their parsers read back; and
 * sync followed by --check is clean.
 */
import { describe, expect, test } from "bun:test";
import { compile, createProcessor } from "@mdx-js/mdx";
import fc from "fast-check";
import { parse as parseYaml, stringify } from "yaml";
import { compareCodeUnits } from "../../lib/derive.ts";
import { parseRegistry } from "../../lib/load.ts";
import { composePathOf, OUTPUT_PATHS, renderAll } from "../../lib/render.ts";
import type { Registry, Service } from "../../lib/schema.ts";
import { validateParsed } from "../../lib/validate.ts";
import { run as runSync } from "../../tasks/sync.ts";
import { registryArb } from "./arbitraries.ts";
import { makeTempDir, removeDir } from "./support.ts";

const validate = (source: string) => validateParsed(parseRegistry(source, "r.yaml"));

describe("no input crashes the validator", () => {
  test("arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (source) => {
        validate(source);
      }),
      { numRuns: 200 },
    );
  });

  test("YAML-ish text built from YAML's own punctuation", () => {
    const unit = fc.constantFrom(
      ..."ab:- \n\t[]{},&*!|>'\"%@#?~0123456789".split(""),
      "services:",
      "ranges:",
      "  - name: ",
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 200 }), (source) => {
        validate(source);
      }),
      { numRuns: 200 },
    );
  });

  test("arbitrary YAML documents, and valid registries with one field replaced by anything", () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 4 }), (value) => {
        validate(stringify(value ?? null));
      }),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(
        registryArb,
        fc.nat(),
        fc.string(),
        fc.anything({ maxDepth: 2 }),
        (draft, index, key, value) => {
          const document = structuredClone(draft.registry) as unknown as Record<string, unknown>;
          const services = document.services as Record<string, unknown>[];
          const target =
            index % 2 === 0 ? document : (services[index % services.length] as Record<string, unknown>);
          const keys = Object.keys(target);
          target[index % 3 === 0 ? key : (keys[index % keys.length] as string)] = value;
          validate(stringify(document));
        },
      ),
      { numRuns: 200 },
    );
  }, 30_000);
});

describe("rendering valid registries", () => {
  test("is valid, deterministic, independent of service order, and parses back", () => {
    fc.assert(
      fc.property(registryArb, (draft) => {
        const result = validate(draft.yaml);
        expect(result.diagnostics.filter((diagnostic) => diagnostic.severity === "error")).toEqual([]);
        const registry = result.registry as Registry;
        const options = { registryFile: "config/ports/registry.yaml" };
        const first = renderAll(registry, options);
        expect(renderAll(registry, options)).toEqual(first);
        expect(renderAll({ ...registry, services: [...registry.services].reverse() }, options)).toEqual(
          first,
        );

        const byPath = new Map(first.map((output) => [output.path, output.content]));
        for (const stack of Object.keys(registry.ranges)) {
          const containers = registry.services
            .filter((service) => service.stack === stack && service.container)
            .map((service) => service.name)
            .sort(compareCodeUnits);
          const compose = byPath.get(composePathOf(stack));
          if (containers.length === 0) {
            expect(compose).toBeUndefined();
            continue;
          }
          const document = parseYaml(compose as string) as {
            services: Record<string, { environment?: object }>;
          };
          expect(Object.keys(document.services).sort(compareCodeUnits)).toEqual(containers);
        }
        const index = JSON.parse(byPath.get(OUTPUT_PATHS.index) as string);
        expect(index.services.map((service: Service) => service.description)).toEqual(
          [...registry.services]
            .sort((a, b) => compareCodeUnits(a.name, b.name))
            .map((service) => service.description),
        );
        const envLines = (byPath.get(OUTPUT_PATHS.env) as string)
          .split("\n")
          .filter((line) => /^[A-Z]/.test(line));
        const envNames = envLines.map((line) => line.slice(0, line.indexOf("=")));
        expect(new Set(envNames).size).toBe(envNames.length);
      }),
      { numRuns: 100 },
    );
  }, 30_000);

  test("the docs page compiles with @mdx-js/mdx and shows hostile text verbatim", async () => {
    await fc.assert(
      fc.asyncProperty(registryArb, async (draft) => {
        const registry = validate(draft.yaml).registry as Registry;
        const docs = renderAll(registry, { registryFile: "config/ports/registry.yaml" }).find(
          (output) => output.path === OUTPUT_PATHS.docs,
        )?.content as string;
        await compile(docs);
        const texts: string[] = [];
        const walk = (node: { type: string; value?: string; children?: unknown[] }) => {
          expect(node.type.startsWith("mdx")).toBe(false);
          if (node.type === "text" && node.value) texts.push(node.value);
          for (const child of node.children ?? []) walk(child as typeof node);
        };
        walk(createProcessor().parse(docs) as never);
        const shown = texts.join("");
        for (const service of registry.services) expect(shown).toContain(service.description);
      }),
      { numRuns: 30 },
    );
  }, 60_000);

  test("sync then --check is clean, and a second sync writes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(registryArb, async (draft) => {
        const root = await makeTempDir("property-");
        try {
          await Bun.write(`${root}/config/ports/registry.yaml`, draft.yaml);
          const written = await runSync({ root });
          expect(written.isValid).toBe(true);
          const checked = await runSync({ root, check: true });
          expect(checked.isUpToDate).toBe(true);
          expect(checked.files.every((file) => file.state === "unchanged")).toBe(true);
          const again = await runSync({ root });
          expect(again.files.every((file) => file.state === "unchanged")).toBe(true);
        } finally {
          await removeDir(root);
        }
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});
