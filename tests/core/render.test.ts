/**
 * Pure rendering: escape functions per format, derived endpoints and variables, compose plans and
 * healthchecks. Whole rendered files are covered by the golden files in tests/golden.
 */
import { describe, expect, test } from "bun:test";
import { compile } from "@mdx-js/mdx";
import { endpointOf, sharedEndpointOf } from "../../lib/derive.ts";
import {
  checkEnvValue,
  escapeMdx,
  healthcheckTestOf,
  OUTPUT_PATHS,
  planCompose,
  planEnv,
  planGraph,
  quoteShell,
  quoteYaml,
  renderAll,
} from "../../lib/render.ts";
import type { Registry, Service } from "../../lib/schema.ts";

const base: Service = {
  name: "api",
  stack: "web",
  port: 4000,
  protocol: "http",
  owner: "Team A",
  description: "An API for the tests",
};

const registryOf = (services: Service[], extra: Partial<Registry> = {}): Registry => ({
  version: "1.0.0",
  lastUpdated: "2025-11-11",
  ranges: { web: "4000-4099", data: "5400-5499" },
  services,
  ...extra,
});

describe("escaping", () => {
  test("quoteShell makes one single-quoted word of anything", () => {
    expect(quoteShell("it's $(id) `x`")).toBe(`'it'\\''s $(id) \`x\`'`);
    expect(quoteShell(4000)).toBe("'4000'");
    expect(() => quoteShell(undefined)).toThrow("template interpolated a missing value");
  });

  test("quoteYaml: strings become JSON strings, numbers stay bare, objects throw", () => {
    expect(quoteYaml('a "b" # c: d')).toBe('"a \\"b\\" # c: d"');
    expect(quoteYaml(5)).toBe("5");
    expect(() => quoteYaml({})).toThrow("template interpolated an object");
    expect(() => quoteYaml(null)).toThrow("template interpolated a missing value");
  });

  test("escapeMdx turns every MDX- or table-significant character into a reference", () => {
    expect(escapeMdx("Plain words, 50% done (ok).")).toBe("Plain words, 50% done (ok).");
    expect(escapeMdx("a|b {c} <d> `e` *f* _g_ #h \\i")).toBe(
      "a&#x7C;b &#x7B;c&#x7D; &#x3C;d&#x3E; &#x60;e&#x60; &#x2A;f&#x2A; &#x5F;g&#x5F; &#x23;h &#x5C;i",
    );
    expect(escapeMdx("émoji 🚀")).toBe("émoji &#x1F680;");
  });

  test("checkEnvValue refuses what Bun and Compose would read differently", () => {
    expect(checkEnvValue("http://api:4000/path?x=1&y=2")).toBe("http://api:4000/path?x=1&y=2");
    for (const value of ["a b", "#x", "$HOME", "'q'", '"q"', "a\nb", "`x`"]) {
      expect(() => checkEnvValue(value)).toThrow("is not safe in an env file");
    }
  });
});

describe("endpoints", () => {
  const db: Service = {
    ...base,
    name: "db",
    stack: "data",
    port: 5433,
    containerPort: 5432,
    protocol: "postgres",
  };
  test("from the host: localhost and the published port", () => {
    expect(endpointOf({ ...db, container: true }, "host")).toEqual({
      host: "localhost",
      port: 5433,
      url: "postgres://localhost:5433",
    });
  });
  test("from a container: the DNS name and container port, or host.docker.internal for a native service", () => {
    expect(endpointOf({ ...db, container: true }, "container")).toEqual({
      host: "db",
      port: 5432,
      url: "postgres://db:5432",
    });
    expect(endpointOf(db, "container")).toEqual({
      host: "host.docker.internal",
      port: 5433,
      url: "postgres://host.docker.internal:5433",
    });
  });
  test("schemes follow the protocol: rabbitmq is amqp://", () => {
    expect(sharedEndpointOf({ ...base, protocol: "rabbitmq" }).url).toBe("amqp://localhost:4000");
  });
});

describe("planEnv", () => {
  test("gateway variables join gatewayUrl and gatewayPath; path / is the origin itself", () => {
    const registry = registryOf(
      [
        { ...base, exposure: "gateway", gatewayPath: "/api" },
        { ...base, name: "ui", port: 4001, exposure: "gateway", gatewayPath: "/" },
      ],
      { gatewayUrl: "http://localhost:9080" },
    );
    expect(planEnv(registry)).toEqual([
      { stack: "data", services: [] },
      {
        stack: "web",
        services: [
          {
            service: "api",
            entries: [
              { name: "API_PORT", value: "4000" },
              { name: "API_HOST", value: "localhost" },
              { name: "API_URL", value: "http://localhost:4000" },
              { name: "API_GATEWAY_PATH", value: "/api" },
              { name: "API_GATEWAY_URL", value: "http://localhost:9080/api" },
            ],
          },
          {
            service: "ui",
            entries: [
              { name: "UI_PORT", value: "4001" },
              { name: "UI_HOST", value: "localhost" },
              { name: "UI_URL", value: "http://localhost:4001" },
              { name: "UI_GATEWAY_PATH", value: "/" },
              { name: "UI_GATEWAY_URL", value: "http://localhost:9080" },
            ],
          },
        ],
      },
    ]);
  });
});

describe("healthchecks", () => {
  test("HTTP: curl or wget with a timeout, wanting the exact expected status, against the path without its fragment", () => {
    expect(healthcheckTestOf({ ...base, healthcheck: { endpoint: "/ui#/status" } })).toEqual([
      "CMD-SHELL",
      "curl -s -o /dev/null -w '%{http_code}' --max-time 5 'http://localhost:4000/ui' | grep -qx 200 || wget -q -S -O /dev/null -T 5 'http://localhost:4000/ui' 2>&1 | grep -q 'HTTP/[0-9.]* 200 ' || exit 1",
    ]);
    expect(
      healthcheckTestOf({ ...base, protocol: "https", healthcheck: { endpoint: "/", expected: 401 } })?.[1],
    ).toBe(
      "curl -s -k -o /dev/null -w '%{http_code}' --max-time 5 'https://localhost:4000/' | grep -qx 401 || wget -q -S --no-check-certificate -O /dev/null -T 5 'https://localhost:4000/' 2>&1 | grep -q 'HTTP/[0-9.]* 401 ' || exit 1",
    );
    expect(healthcheckTestOf(base)).toBeUndefined();
  });
  test("the HTTP check waits as long as the healthcheck's timeout, in whole seconds", () => {
    const waitOf = (timeout: string) =>
      /--max-time (\d+) .* -T (\d+) /
        .exec(healthcheckTestOf({ ...base, healthcheck: { endpoint: "/slow", timeout } })?.[1] ?? "")
        ?.slice(1);
    expect([waitOf("10s"), waitOf("500ms"), waitOf("2m")]).toEqual([
      ["10", "10"],
      ["1", "1"],
      ["120", "120"],
    ]);
  });
  test("a NONE check is written as disable: true, and a dependency on it waits only for the start", () => {
    const none: Service = { ...base, name: "quiet", container: true, healthcheck: { command: ["NONE"] } };
    const client: Service = { ...base, name: "client", port: 4001, container: true, depends_on: ["quiet"] };
    const plan = planCompose(registryOf([none, client]), "web");
    expect(plan.services.find((s) => s.name === "quiet")?.healthcheck?.disable).toBe(true);
    expect(plan.services.find((s) => s.name === "client")?.dependsOn).toEqual([
      { name: "quiet", condition: "service_started" },
    ]);
    const compose = renderAll(registryOf([none, client]), { registryFile: "r.yaml" }).find(
      (output) => output.path === "tools/compose/docker-compose.web.yml",
    )?.content;
    expect(compose).toContain("    healthcheck:\n      disable: true\n");
    expect(compose).not.toContain('"NONE"');
  });
  test("a command in Compose's own form is written as given, not wrapped in another CMD", () => {
    const shell = ["CMD-SHELL", "test -f /tmp/ready"];
    expect(healthcheckTestOf({ ...base, healthcheck: { command: shell } })).toEqual(shell);
    expect(healthcheckTestOf({ ...base, healthcheck: { command: ["CMD", "probe"] } })).toEqual([
      "CMD",
      "probe",
    ]);
    expect(healthcheckTestOf({ ...base, healthcheck: { command: ["NONE"] } })).toEqual(["NONE"]);
  });
  test("databases get their own probe on the container port; a command wins over everything", () => {
    expect(healthcheckTestOf({ ...base, protocol: "postgres", containerPort: 5432 })).toEqual([
      "CMD",
      "pg_isready",
      "-h",
      "localhost",
      "-p",
      "5432",
    ]);
    expect(
      healthcheckTestOf({ ...base, protocol: "redis", healthcheck: { command: ["probe", "--fast"] } }),
    ).toEqual(["CMD", "probe", "--fast"]);
    expect(healthcheckTestOf({ ...base, protocol: "tcp" })).toBeUndefined();
  });
});

describe("planCompose", () => {
  const registry = registryOf([
    {
      ...base,
      container: true,
      network: "app",
      depends_on: ["db", "cache", "native", "other"],
      environment: { DB: { urlOf: "db" }, NATIVE_HOST: { hostOf: "native" }, LITERAL: "a$b" },
      volumes: ["./data/api:/data", "api-cache:/cache:ro"],
      exposure: "internal",
    },
    { ...base, name: "db", port: 4010, protocol: "postgres", container: true, network: "app" },
    { ...base, name: "cache", port: 4011, protocol: "tcp", container: true, network: "app" },
    { ...base, name: "native", port: 4012 },
    { ...base, name: "other", stack: "data", port: 5400, container: true, network: "app" },
  ]);
  test("depends_on conditions, cross-stack notes, host gateway, internal exposure and volumes", () => {
    const plan = planCompose(registry, "web");
    const api = plan.services.find((service) => service.name === "api");
    expect(api).toEqual({
      name: "api",
      image: "api",
      build: undefined,
      command: undefined,
      restart: "unless-stopped",
      environment: [
        ["DB", "postgres://db:4010"],
        ["LITERAL", "a$$b"],
        ["NATIVE_HOST", "host.docker.internal"],
      ],
      ports: [],
      expose: ["4000"],
      networks: ["app"],
      volumes: ["../../data/api:/data", "api-cache:/cache:ro"],
      extraHosts: ["host.docker.internal:host-gateway"],
      healthcheck: undefined,
      dependsOn: [
        { name: "db", condition: "service_healthy" },
        { name: "cache", condition: "service_started" },
      ],
      notes: [
        "needs native, a native service, at host.docker.internal:4012",
        "needs other from stack data (tools/compose/docker-compose.data.yml)",
      ],
    });
    expect(plan.services.map((service) => service.name)).toEqual(["api", "db", "cache"]);
    expect(plan.networks).toEqual([{ name: "app", driver: "bridge", external: false }]);
    expect(plan.volumes).toEqual(["api-cache"]);
  });

  test("a published port reads its variable from .env.shared and fails loudly without it", () => {
    const plan = planCompose(registry, "data");
    expect(plan.services[0]?.ports).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation, not a template
      "${OTHER_PORT:?run npm run ports:sync and pass --env-file .env.shared}:5400",
    ]);
  });
});

describe("renderAll", () => {
  test("the order services are listed in does not change a byte", () => {
    const services: Service[] = [
      { ...base, container: true, network: "app", depends_on: ["db"] },
      { ...base, name: "db", port: 4010, protocol: "postgres", container: true, network: "app" },
      { ...base, name: "zeta", stack: "data", port: 5401 },
    ];
    const forward = renderAll(registryOf(services), { registryFile: "config/ports/registry.yaml" });
    const backward = renderAll(registryOf([...services].reverse()), {
      registryFile: "config/ports/registry.yaml",
    });
    expect(backward).toEqual(forward);
  });
});

describe("the docs page's dependency graph", () => {
  /** `count` services, each depending on the `fanOut` before it. */
  const chain = (count: number, fanOut: number, nameLength = 8): Registry =>
    registryOf(
      Array.from({ length: count }, (_, index) => ({
        ...base,
        name: `s${String(index).padStart(nameLength - 1, "0")}`,
        port: 4000 + index,
        depends_on: Array.from(
          { length: Math.min(index, fanOut) },
          (_, back) => `s${String(index - back - 1).padStart(nameLength - 1, "0")}`,
        ),
      })),
      { ranges: { web: "4000-9999" } },
    );
  const docsOf = (registry: Registry) =>
    renderAll(registry, { registryFile: "r.yaml" }).find((output) => output.path === OUTPUT_PATHS.docs)
      ?.content ?? "";

  test("is drawn within Mermaid's limits, and its size is counted as Mermaid counts it", () => {
    const registry = chain(103, 5); // 0 + 1 + 2 + 3 + 4 + 98 * 5 = 500 edges: the limit, still drawn
    const graph = planGraph(registry);
    expect(graph.isDrawn).toBe(true);
    const page = docsOf(registry);
    const diagram = page.slice(page.indexOf("```mermaid\n") + 11, page.lastIndexOf("```"));
    expect(graph.isDrawn && graph.edges.length).toBe(500);
    expect(graph.isDrawn && graph.textSize).toBe(diagram.length);
  });

  test("past 500 edges it is left out with a sentence, and the page still compiles", async () => {
    const registry = chain(104, 5); // 505 edges
    expect(planGraph(registry)).toEqual({ isDrawn: false, services: 104, edges: 505 });
    const page = docsOf(registry);
    expect(page).not.toContain("```mermaid");
    expect(page).toContain(
      "The graph of 104 services and 505 dependencies is larger than Mermaid draws (500 edges, 50000 characters), so it is left out. Every service's `depends_on` is in `config/ports/index.json`.\n",
    );
    await compile(page);
  });

  test("past 50,000 characters it is left out too, whatever the edges", () => {
    const registry = chain(900, 0, 40); // no edges; 900 nodes of about 90 characters
    expect(planGraph(registry)).toEqual({ isDrawn: false, services: 900, edges: 0 });
  });
});
