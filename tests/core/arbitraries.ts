/**
 * fast-check arbitraries for registries: valid ones drawn with hostile free text.
 */
import fc from "fast-check";
import { stringify } from "yaml";
import { PROTOCOLS, RESERVED_NAMES, type Registry, type Service } from "../../lib/schema.ts";

/** Characters that mean something to YAML, shells, MDX, Markdown tables, Compose or .env files. */
const HOSTILE = [..."abcXYZ 019.,:;-_/\\'\"`$(){}[]<>|&*!?#%@=+~^", "é", "ß", "→", "🚀", "漢"];
const text = (min: number, max: number) =>
  fc
    .string({ unit: fc.constantFrom(...HOSTILE), minLength: min, maxLength: max })
    // Valid free text is neither blank nor padded with whitespace.
    .filter((value) => value.trim() === value && value.length >= min);

const nameArb = fc
  .stringMatching(/^[a-z][a-z0-9]{0,5}(?:-[a-z0-9]{1,3})?$/)
  .filter((name) => !(RESERVED_NAMES as readonly string[]).includes(name));

export type Draft = { registry: Registry; yaml: string };

/** A valid registry: non-overlapping ranges, unique names and ports, acyclic depends_on, one network. */
export const registryArb: fc.Arbitrary<Draft> = fc
  .record({
    stacks: fc.uniqueArray(nameArb, { minLength: 1, maxLength: 4 }),
    names: fc.uniqueArray(nameArb, { minLength: 1, maxLength: 8 }),
    picks: fc.array(
      fc.record({
        stack: fc.nat(),
        offset: fc.nat({ max: 99 }),
        protocol: fc.constantFrom(...PROTOCOLS),
        isContainer: fc.boolean(),
        owner: text(2, 40),
        description: text(10, 80),
        notes: fc.option(text(1, 60), { nil: undefined }),
        endpoint: fc.option(fc.stringMatching(/^\/[a-z0-9._~!$&()*+,;=:@%/?-]{0,20}$/), { nil: undefined }),
        dependencies: fc.array(fc.nat(), { maxLength: 3 }),
        environment: fc.option(text(0, 30), { nil: undefined }),
        exposure: fc.constantFrom(undefined, "direct", "internal", "gateway"),
      }),
      { minLength: 8, maxLength: 8 },
    ),
  })
  .map(({ stacks, names, picks }) => {
    const ranges: Record<string, string> = {};
    stacks.forEach((stack, index) => {
      ranges[stack] = `${4000 + index * 100}-${4099 + index * 100}`;
    });
    const usedPorts = new Set<number>();
    const services: Service[] = [];
    names.forEach((name, index) => {
      const pick = picks[index] as (typeof picks)[number];
      const stackIndex = pick.stack % stacks.length;
      let port = 4000 + stackIndex * 100 + pick.offset;
      while (usedPorts.has(port)) port = 4000 + stackIndex * 100 + ((port + 1 - 4000) % 100);
      usedPorts.add(port);
      const earlier = services.map((service) => service.name);
      const dependsOn = [
        ...new Set(
          pick.dependencies
            .filter(() => earlier.length > 0)
            .map((n) => earlier[n % earlier.length] as string),
        ),
      ];
      const service: Service = {
        name,
        stack: stacks[stackIndex] as string,
        port,
        protocol: pick.protocol,
        owner: pick.owner,
        description: pick.description,
      };
      if (pick.notes !== undefined) service.notes = pick.notes;
      if (pick.isContainer) {
        service.container = true;
        service.network = "app";
        service.depends_on = dependsOn;
        const containerDependencies = dependsOn.filter((dependency) =>
          services.some((other) => other.name === dependency && other.container),
        );
        service.depends_on = containerDependencies;
        const environment: Service["environment"] = {};
        if (pick.environment !== undefined) environment.NOTE = pick.environment;
        for (const dependency of containerDependencies) {
          environment[`${dependency.toUpperCase().replaceAll("-", "_")}_URL`] = { urlOf: dependency };
        }
        service.environment = environment;
      } else {
        service.container = false;
      }
      if (pick.endpoint !== undefined && (pick.protocol === "http" || pick.protocol === "https")) {
        service.healthcheck = { endpoint: pick.endpoint.replaceAll("#", "") || "/" };
      }
      if (pick.exposure === "gateway") {
        service.exposure = "gateway";
        service.gatewayPath = `/gw/${name}`;
      } else if (pick.exposure !== undefined) {
        service.exposure = pick.exposure;
      }
      services.push(service);
    });
    const hasContainer = services.some((service) => service.container);
    const registry: Registry = {
      version: "1.0.0",
      lastUpdated: "2025-11-11",
      gatewayUrl: "http://localhost:9080",
      ...(hasContainer ? { networks: { app: {} } } : {}),
      ranges,
      services,
    };
    return {
      registry,
      yaml: stringify(registry, { defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN", lineWidth: 0 }),
    };
  });
