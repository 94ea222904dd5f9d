/**
 * One failing and one passing case per business rule, asserting the whole Diagnostic.
 * Every case is a complete registry; see `service()` for the 8-line service block.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { deriveEnvNames } from "../../lib/derive.ts";
import { RULES } from "../../lib/diagnostics.ts";
import type { PartialService } from "../../lib/load.ts";
import { canShareEnvNames } from "../../lib/rules.ts";
import type { Service } from "../../lib/schema.ts";
import { diagnostic, diagnosticsOf, HEAD, nativeService, service } from "./support.ts";

const registry = (...services: string[]) => HEAD + services.join("");

describe("a clean registry", () => {
  test("has no diagnostics", () => {
    expect(diagnosticsOf(registry(service("a", 4000), service("b", 4001)))).toEqual([]);
  });
});

describe("name-duplicate", () => {
  test("the second service with a name is reported at its name", () => {
    expect(diagnosticsOf(registry(service("a", 4000), service("a", 4001)))).toEqual([
      diagnostic(17, 11, "name-duplicate", "error", "name a is already used by services[0]"),
    ]);
  });
  test("distinct names pass", () => {
    expect(diagnosticsOf(registry(service("a", 4000), service("a2", 4001)))).toEqual([]);
  });
});

describe("port-duplicate", () => {
  test("the second service on a port is reported at its port", () => {
    expect(diagnosticsOf(registry(service("a", 4000), service("b", 4000)))).toEqual([
      diagnostic(19, 11, "port-duplicate", "error", "port 4000 is already used by a"),
    ]);
  });
  test("distinct ports pass", () => {
    expect(diagnosticsOf(registry(service("a", 4000), service("b", 4099)))).toEqual([]);
  });
});

describe("port-out-of-range", () => {
  test("a port outside its stack's range", () => {
    expect(diagnosticsOf(registry(service("a", 4100)))).toEqual([
      diagnostic(11, 11, "port-out-of-range", "error", "port 4100 of a is outside its stack api (4000-4099)"),
    ]);
  });
  test("both ends of the range are inside", () => {
    expect(diagnosticsOf(registry(service("a", 5000, [], "data"), service("b", 5099, [], "data")))).toEqual(
      [],
    );
  });
});

describe("port-ephemeral", () => {
  const head = (range: string) => HEAD.replace('data: "5000-5099"', `high: "${range}"`);
  test("a port in 32768-60999 warns", () => {
    const source = head("40000-40099") + service("a", 40000, [], "high");
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(
        11,
        11,
        "port-ephemeral",
        "warning",
        "port 40000 of a is in the Linux ephemeral range 32768-60999; outgoing connections may take it",
      ),
    ]);
  });
  test("61000 is outside the ephemeral range", () => {
    expect(diagnosticsOf(head("61000-61099") + service("a", 61000, [], "high"))).toEqual([]);
  });
});

describe("stack-unknown", () => {
  test("a stack without a range, with a suggestion", () => {
    expect(diagnosticsOf(registry(service("a", 4000, [], "apx")))).toEqual([
      diagnostic(10, 12, "stack-unknown", "error", "stack apx has no entry in ranges; did you mean api?"),
    ]);
  });
  test("a stack with a range passes", () => {
    expect(diagnosticsOf(registry(service("a", 5050, [], "data")))).toEqual([]);
  });
});

describe("range-invalid and range-overlap", () => {
  const withRanges = (ranges: string[]) =>
    `version: "1.0.0"\nlastUpdated: "2025-11-11"\nranges:\n${ranges.map((r) => `  ${r}\n`).join("")}services: []\n`;
  test("a reversed range", () => {
    expect(diagnosticsOf(withRanges(['bad: "4200-4100"']))).toEqual([
      diagnostic(4, 8, "range-invalid", "error", 'range bad "4200-4100" starts after it ends'),
    ]);
  });
  test("a range below 1024", () => {
    expect(diagnosticsOf(withRanges(['low: "80-90"']))).toEqual([
      diagnostic(4, 8, "range-invalid", "error", 'range low "80-90" must lie within 1024-65535'),
    ]);
  });
  test("a range above 65535", () => {
    expect(diagnosticsOf(withRanges(['top: "65000-70000"']))).toEqual([
      diagnostic(4, 8, "range-invalid", "error", 'range top "65000-70000" must lie within 1024-65535'),
    ]);
  });
  test("overlapping ranges warn at the later one", () => {
    expect(diagnosticsOf(withRanges(['one: "4000-4099"', 'two: "4050-4150"', 'three: "4150-4150"']))).toEqual(
      [
        diagnostic(5, 8, "range-overlap", "warning", "range two overlaps one on 4050-4099"),
        diagnostic(6, 10, "range-overlap", "warning", "range three overlaps two on 4150"),
      ],
    );
  });
  test("adjacent ranges and a one-port range pass", () => {
    expect(diagnosticsOf(withRanges(['one: "4000-4099"', 'two: "4100-4199"', 'three: "4200-4200"']))).toEqual(
      [],
    );
  });
});

describe("depends-missing, depends-self and depends-cycle", () => {
  test("an unknown dependency, with a suggestion", () => {
    expect(
      diagnosticsOf(registry(service("api-a", 4000, ["depends_on: [api-b]"]), service("api-bb", 4001))),
    ).toEqual([
      diagnostic(
        17,
        18,
        "depends-missing",
        "error",
        "api-a depends on api-b, which is not registered; did you mean api-bb?",
      ),
    ]);
  });
  test("a service that depends on itself", () => {
    expect(diagnosticsOf(registry(service("a", 4000, ["depends_on: [a]"])))).toEqual([
      diagnostic(17, 18, "depends-self", "error", "a depends on itself"),
    ]);
  });
  test("a cycle is reported once, at the edge that closes it", () => {
    const source = registry(
      service("a", 4000, ["depends_on: [b]"]),
      service("b", 4001, ["depends_on: [c]"]),
      service("c", 4002, ["depends_on: [a]"]),
    );
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(17, 18, "depends-cycle", "error", "depends_on forms a cycle: a -> b -> c -> a"),
    ]);
  });
  test("forward references and a diamond pass", () => {
    const source = registry(
      service("a", 4000, ["depends_on: [b, c]"]),
      service("b", 4001, ["depends_on: [d]"]),
      service("c", 4002, ["depends_on: [d]"]),
      service("d", 4003),
    );
    expect(diagnosticsOf(source)).toEqual([]);
  });
});

describe("deprecation rules", () => {
  test("deprecated-no-replacement", () => {
    expect(diagnosticsOf(registry(service("old", 4000, ["deprecated: true"])))).toEqual([
      diagnostic(
        17,
        17,
        "deprecated-no-replacement",
        "warning",
        "old is deprecated but names no replacement",
      ),
    ]);
  });
  test("replacement-missing", () => {
    expect(diagnosticsOf(registry(service("old", 4000, ["deprecated: true", "replacement: nova"])))).toEqual([
      diagnostic(18, 18, "replacement-missing", "error", "replacement nova of old is not registered"),
    ]);
  });
  test("replacement-self", () => {
    expect(diagnosticsOf(registry(service("old", 4000, ["deprecated: true", "replacement: old"])))).toEqual([
      diagnostic(18, 18, "replacement-self", "error", "old names itself as its replacement"),
    ]);
  });
  test("replacement-deprecated", () => {
    const source = registry(
      service("old", 4000, ["deprecated: true", "replacement: older"]),
      service("older", 4001, ["deprecated: true", "replacement: new"]),
      service("new", 4002),
    );
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(
        18,
        18,
        "replacement-deprecated",
        "error",
        "replacement older of old is itself deprecated; point to its replacement",
      ),
    ]);
  });
  test("replacement-not-deprecated", () => {
    expect(diagnosticsOf(registry(service("a", 4000, ["replacement: b"]), service("b", 4001)))).toEqual([
      diagnostic(
        17,
        18,
        "replacement-not-deprecated",
        "warning",
        "a names a replacement but is not deprecated; add deprecated: true",
      ),
    ]);
  });
  test("a deprecated service with a live replacement passes", () => {
    expect(
      diagnosticsOf(
        registry(service("old", 4000, ["deprecated: true", "replacement: new"]), service("new", 4001)),
      ),
    ).toEqual([]);
  });
});

describe("network rules", () => {
  const noNetwork = (name: string, port: number) => service(name, port).replace("    network: backend\n", "");
  test("network-required", () => {
    expect(diagnosticsOf(registry(service("a", 4000), noNetwork("b", 4001)))).toEqual([
      diagnostic(17, 5, "network-required", "error", "container b declares no network; add network: <name>"),
    ]);
  });
  test("a native service needs no network", () => {
    const native = noNetwork("b", 4001).replace("container: true", "container: false");
    expect(diagnosticsOf(registry(service("a", 4000), native))).toEqual([]);
  });
  test("network-undeclared, with a suggestion", () => {
    const source = registry(
      service("a", 4000),
      service("b", 4001).replace("network: backend", "network: backen"),
    );
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(
        24,
        14,
        "network-undeclared",
        "error",
        "network backen of b is not declared under networks:; did you mean backend?",
      ),
    ]);
  });
  test("network-undeclared in a list points at the item", () => {
    const source = registry(service("a", 4000).replace("network: backend", "network: [backend, front]"));
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(16, 24, "network-undeclared", "error", "network front of a is not declared under networks:"),
    ]);
  });
  test("network-unused", () => {
    const source = registry(service("a", 4000)).replace("  backend: {}\n", "  backend: {}\n  spare: {}\n");
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(8, 3, "network-unused", "warning", "network spare is used by no service"),
    ]);
  });
  test("without a networks: section, any network name passes", () => {
    const source = registry(service("a", 4000)).replace("networks:\n  backend: {}\n", "");
    expect(diagnosticsOf(source)).toEqual([]);
  });
});

describe("connectivity", () => {
  const head = HEAD.replace("  backend: {}\n", "  backend: {}\n  other: {}\n");
  test("network-isolated names the network to add", () => {
    const source =
      head +
      service("a", 4000, ["depends_on: [b]"]) +
      service("b", 4001).replace("network: backend", "network: other");
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(
        18,
        18,
        "network-isolated",
        "error",
        "container a (backend) cannot reach b (other); add other to the network of a",
      ),
    ]);
  });
  test("sharing one of several networks passes", () => {
    const source =
      head +
      service("a", 4000, ["depends_on: [b]"]) +
      service("b", 4001).replace("network: backend", "network: [other, backend]");
    expect(diagnosticsOf(source)).toEqual([]);
  });
  test("depends-native says how the container reaches the host", () => {
    const native = nativeService("b", 4001);
    expect(diagnosticsOf(registry(service("a", 4000, ["depends_on: [b]"]), native))).toEqual([
      diagnostic(
        17,
        18,
        "depends-native",
        "warning",
        "container a depends on native service b; it is reached at host.docker.internal:4001 (extra_hosts: host-gateway), never localhost. Containerize b to remove this warning",
      ),
    ]);
  });
  test("a native service depending on a native service passes", () => {
    expect(
      diagnosticsOf(
        registry(service("c", 4002), nativeService("a", 4000, ["depends_on: [b]"]), nativeService("b", 4001)),
      ),
    ).toEqual([]);
  });
});

describe("env-literal-endpoint", () => {
  const literal = (value: string) => ["environment:", `  TARGET: ${value}`];
  test("localhost in a container names the registered owner of the port and the reference to write", () => {
    expect(
      diagnosticsOf(registry(service("a", 4000, literal("http://localhost:4001/x")), service("b", 4001))),
    ).toEqual([
      diagnostic(
        18,
        15,
        "env-literal-endpoint",
        "error",
        "TARGET of a points at localhost:4001, which inside the container is the container itself, not b; write { urlOf: b }",
      ),
    ]);
  });
  test("127.0.0.1 and [::1] are loopback too", () => {
    const source = registry(
      service("a", 4000, ["environment:", "  ONE: 127.0.0.1:4001", "  TWO: tcp://[::1]:4001"]),
      service("b", 4001),
    );
    expect(diagnosticsOf(source).map((d) => [d.line, d.rule, d.message])).toEqual([
      [
        18,
        "env-literal-endpoint",
        "ONE of a points at 127.0.0.1:4001, which inside the container is the container itself, not b; write { urlOf: b }",
      ],
      [
        19,
        "env-literal-endpoint",
        "TWO of a points at [::1]:4001, which inside the container is the container itself, not b; write { urlOf: b }",
      ],
    ]);
  });
  test("a registered container by name on a port it does not listen on", () => {
    const source = registry(
      service("a", 4000, ["depends_on: [db]", ...literal("postgres://u:p@db:5432/app")]),
      service("db", 4001, ["containerPort: 5433"]),
    );
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(
        19,
        15,
        "env-literal-endpoint",
        "error",
        "TARGET of a points at db:5432, but db listens on 5433 inside the network; write { urlOf: db }",
      ),
    ]);
  });
  test("a native service by name has no name on the Docker network", () => {
    const source = registry(service("a", 4000, literal("http://b:4001")), nativeService("b", 4001));
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(
        18,
        15,
        "env-literal-endpoint",
        "error",
        "TARGET of a points at b:4001, but b is a native service with no name on the Docker network; write { urlOf: b } (host.docker.internal:4001)",
      ),
    ]);
  });
  test("what works passes: own ports, the right container port, bind addresses, unknown hosts, native services", () => {
    const source = registry(
      service("a", 4000, [
        "containerPort: 8080",
        "depends_on: [db]",
        "environment:",
        "  SELF: http://localhost:8080/health",
        "  METRICS: localhost:9100",
        "  BIND: 0.0.0.0:4001",
        "  DB: postgres://u:p@db:5433/app",
        "  EXTERNAL: https://api.example.com:8443",
        "  GATEWAY: http://host.docker.internal:4001",
        "  PLAIN: production",
        "  TIME: at 12:30",
      ]),
      service("db", 4001, ["containerPort: 5433"]),
      nativeService("c", 4002).replace(
        "    owner:",
        "    environment:\n      UP: http://localhost:4000\n    owner:",
      ),
    );
    expect(diagnosticsOf(source)).toEqual([]);
  });
});

describe("environment references", () => {
  test("env-ref-missing", () => {
    expect(diagnosticsOf(registry(service("a", 4000, ["environment:", "  DB_URL: { urlOf: db }"])))).toEqual([
      diagnostic(18, 15, "env-ref-missing", "error", "DB_URL of a refers to db, which is not registered"),
    ]);
  });
  test("env-ref-unreachable", () => {
    const source = registry(
      service("a", 4000, ["environment:", "  B_HOST: { hostOf: b }"]),
      service("b", 4001),
    );
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(
        18,
        15,
        "env-ref-unreachable",
        "warning",
        "B_HOST of a refers to b; add it to depends_on so it starts first",
      ),
    ]);
  });
  test("references to a dependency and to the service itself pass", () => {
    const source = registry(
      service("a", 4000, [
        "depends_on: [b]",
        "environment:",
        "  B_PORT: { portOf: b }",
        "  PORT: { portOf: a }",
        "  MODE: production",
      ]),
      service("b", 4001),
    );
    expect(diagnosticsOf(source)).toEqual([]);
  });
});

describe("container-fields-native", () => {
  test("compose fields on a native service are reported at the key", () => {
    const source = registry(
      service("c", 4001),
      nativeService("a", 4000, ["image: nginx:1", "restart: always"]),
    );
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(
        24,
        5,
        "container-fields-native",
        "warning",
        "image of a is ignored: it is not a container (container: true)",
      ),
      diagnostic(
        25,
        5,
        "container-fields-native",
        "warning",
        "restart of a is ignored: it is not a container (container: true)",
      ),
    ]);
  });
  test("the same fields on a container pass", () => {
    expect(diagnosticsOf(registry(service("a", 4000, ["image: nginx:1", "restart: always"])))).toEqual([]);
  });
});

describe("gateway rules", () => {
  test("gateway-path-missing", () => {
    expect(diagnosticsOf(registry(service("a", 4000, ["exposure: gateway"])))).toEqual([
      diagnostic(17, 15, "gateway-path-missing", "error", "a has exposure: gateway but no gatewayPath"),
    ]);
  });
  test("gateway-path-unused", () => {
    expect(diagnosticsOf(registry(service("a", 4000, ["exposure: direct", "gatewayPath: /a"])))).toEqual([
      diagnostic(
        18,
        18,
        "gateway-path-unused",
        "warning",
        "gatewayPath of a is unused without exposure: gateway",
      ),
    ]);
  });
  test("gateway-path-duplicate", () => {
    const source = registry(
      service("a", 4000, ["exposure: gateway", "gatewayPath: /api"]),
      service("b", 4001, ["exposure: gateway", "gatewayPath: /api"]),
    );
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(28, 18, "gateway-path-duplicate", "error", "gatewayPath /api is already used by a"),
    ]);
  });
  test("distinct gateway paths pass", () => {
    const source = registry(
      service("a", 4000, ["exposure: gateway", "gatewayPath: /api/a"]),
      service("b", 4001, ["exposure: gateway", "gatewayPath: /api/b"]),
      service("c", 4002, ["exposure: internal"]),
    );
    expect(diagnosticsOf(source)).toEqual([]);
  });
});

describe("healthcheck rules", () => {
  test("health-fragment names what is requested", () => {
    expect(diagnosticsOf(registry(service("a", 4000, ["healthcheck:", "  endpoint: /ui#/status"])))).toEqual([
      diagnostic(
        18,
        17,
        "health-fragment",
        "warning",
        "endpoint /ui#/status of a has a #fragment, which is never sent; the check requests /ui",
      ),
    ]);
  });
  test("health-endpoint-protocol", () => {
    const source = registry(
      service("a", 4000, ["healthcheck:", "  endpoint: /health"]).replace(
        "protocol: http",
        "protocol: redis",
      ),
    );
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(
        18,
        17,
        "health-endpoint-protocol",
        "warning",
        "a speaks redis, so its HTTP endpoint is not used; a TCP check runs instead",
      ),
    ]);
  });
  test("an HTTP endpoint with a query passes", () => {
    expect(
      diagnosticsOf(registry(service("a", 4000, ["healthcheck:", "  endpoint: /health?full=1"]))),
    ).toEqual([]);
  });
});

describe("what one mistake does not hide", () => {
  test("a bad variable name keeps the other variables' references checked", () => {
    expect(
      diagnosticsOf(
        registry(service("a", 4000, ["environment:", "  bad-key: x", "  X_URL: { urlOf: nothing }"])),
      ),
    ).toEqual([
      diagnostic(18, 7, "schema-value", "error", 'a: key "bad-key" must be an UPPER_SNAKE_CASE name'),
      diagnostic(19, 14, "env-ref-missing", "error", "X_URL of a refers to nothing, which is not registered"),
    ]);
  });
  test("LOCALHOST is localhost: host names ignore case", () => {
    expect(
      diagnosticsOf(
        registry(
          service("a", 4000, ["depends_on: [b]", "environment:", "  B_URL: http://LOCALHOST:4001"]),
          service("b", 4001),
        ),
      ),
    ).toEqual([
      diagnostic(
        19,
        14,
        "env-literal-endpoint",
        "error",
        "B_URL of a points at LOCALHOST:4001, which inside the container is the container itself, not b; write { urlOf: b }",
      ),
    ]);
  });
});

describe("env-name-reserved", () => {
  test("a service named docker would set DOCKER_HOST", () => {
    expect(diagnosticsOf(registry(service("docker", 4000)))).toEqual([
      diagnostic(
        9,
        11,
        "env-name-reserved",
        "error",
        "docker derives DOCKER_HOST, which docker-compose reads from .env.shared and the docker CLI from the environment; rename the service (for example docker-engine)",
      ),
    ]);
  });
  test("docker-engine passes", () => {
    expect(diagnosticsOf(registry(service("docker-engine", 4000)))).toEqual([]);
  });
});

describe("list-duplicate", () => {
  const suffix = "(entry 1 already has it); Compose refuses the file, so remove one";
  test("a network, a dependency or a volume's container path named twice is an error at the repeat", () => {
    expect(
      diagnosticsOf(registry(service("a", 4000).replace("network: backend", "network: [backend, backend]"))),
    ).toEqual([diagnostic(16, 24, "list-duplicate", "error", `network of a repeats backend ${suffix}`)]);
    expect(diagnosticsOf(registry(service("a", 4000, ["depends_on: [b, b]"]), service("b", 4001)))).toEqual([
      diagnostic(17, 21, "list-duplicate", "error", `depends_on of a repeats b ${suffix}`),
    ]);
    expect(
      diagnosticsOf(registry(service("a", 4000, ["volumes:", "  - v1:/data", "  - v2:/data:ro"]))),
    ).toEqual([
      diagnostic(19, 9, "list-duplicate", "error", `volumes of a repeats container path /data ${suffix}`),
    ]);
  });
  test("distinct entries pass", () => {
    expect(
      diagnosticsOf(
        registry(
          service("a", 4000, ["depends_on: [b]", "volumes: [v1:/data, v1:/logs]"]),
          service("b", 4001),
        ),
      ),
    ).toEqual([]);
  });
  test("cannot be turned off", () => {
    expect(RULES["list-duplicate"].overridable).toBe(false);
  });
});

describe("depends-internal", () => {
  test("a native service that depends on an internal container warns: the host cannot reach it", () => {
    expect(
      diagnosticsOf(
        registry(nativeService("web", 4001, ["depends_on: [a]"]), service("a", 4000, ["exposure: internal"])),
      ),
    ).toEqual([
      diagnostic(
        16,
        18,
        "depends-internal",
        "warning",
        "native service web depends on a, which has exposure: internal and is not published on the host; publish a (exposure: direct) or containerize web",
      ),
    ]);
  });
  test("a published container, or a container that depends on the internal one, passes", () => {
    expect(
      diagnosticsOf(registry(nativeService("web", 4001, ["depends_on: [a]"]), service("a", 4000))),
    ).toEqual([]);
    expect(
      diagnosticsOf(
        registry(service("web", 4001, ["depends_on: [a]"]), service("a", 4000, ["exposure: internal"])),
      ),
    ).toEqual([]);
  });
});

describe("rules: severity overrides", () => {
  const overlapping = (rules: string) =>
    `version: "1.0.0"\nlastUpdated: "2025-11-11"\n${rules}ranges:\n  one: "4000-4099"\n  two: "4050-4150"\nservices: []\n`;
  test("rule-unknown, with a suggestion", () => {
    expect(diagnosticsOf(overlapping('rules:\n  range-overlab: "off"\n'))).toEqual([
      diagnostic(4, 3, "rule-unknown", "error", "unknown rule range-overlab; did you mean range-overlap?"),
      diagnostic(7, 8, "range-overlap", "warning", "range two overlaps one on 4050-4099"),
    ]);
  });
  test("a load or schema rule cannot be overridden", () => {
    expect(diagnosticsOf(overlapping('rules:\n  yaml-alias: "off"\n  range-overlap: "off"\n'))).toEqual([
      diagnostic(
        4,
        3,
        "rule-unknown",
        "error",
        "rule yaml-alias cannot be overridden: the file would not mean anything",
      ),
    ]);
  });
  test.each([
    "name-duplicate",
    "stack-unknown",
    "depends-self",
    "depends-cycle",
    "env-ref-missing",
    "env-name-collision",
  ])("%s cannot be overridden: sync would turn it into broken files", (rule) => {
    expect(diagnosticsOf(overlapping(`rules:\n  ${rule}: "off"\n  range-overlap: "off"\n`))).toEqual([
      diagnostic(
        4,
        3,
        "rule-unknown",
        "error",
        `rule ${rule} cannot be overridden: sync would generate broken files`,
      ),
    ]);
  });
  test("off silences a rule", () => {
    expect(diagnosticsOf(overlapping('rules:\n  range-overlap: "off"\n'))).toEqual([]);
  });
  test("error raises a warning", () => {
    expect(diagnosticsOf(overlapping("rules:\n  range-overlap: error\n"))).toEqual([
      diagnostic(7, 8, "range-overlap", "error", "range two overlaps one on 4050-4099"),
    ]);
  });
  test("one bad entry does not drop the others: the run still applies every valid override", () => {
    const diagnostics = diagnosticsOf(
      overlapping('rules:\n  port-duplicate: loud\n  range-overlap: "off"\n'),
    );
    expect(diagnostics.map((d) => [d.line, d.rule])).toEqual([[4, "schema-value"]]);
  });
  test("warning lowers an error", () => {
    const source = registry(service("a", 4000), service("b", 4000)).replace(
      "ranges:",
      "rules:\n  port-duplicate: warning\nranges:",
    );
    expect(diagnosticsOf(source)).toEqual([
      diagnostic(21, 11, "port-duplicate", "warning", "port 4000 is already used by a"),
    ]);
  });
});

describe("networks with a bad definition", () => {
  test("still count as declared, and the other networks keep their rules", () => {
    const source =
      HEAD.replace("  backend: {}\n", "  backend: { driver: bridges }\n  spare: {}\n") + service("a", 4000);
    expect(diagnosticsOf(source).map((d) => [d.line, d.rule, d.message])).toEqual([
      [
        7,
        "schema-value",
        'networks.backend.driver must be bridge or overlay (Compose cannot create a host or none network), got "bridges"',
      ],
      [8, "network-unused", "network spare is used by no service"],
    ]);
  });
});

describe("network-unused", () => {
  test("is not claimed while a service's network failed the schema (it may use any network)", () => {
    const source =
      HEAD.replace("  backend: {}\n", "  backend: {}\n  spare: {}\n") +
      service("a", 4000).replace("network: backend", "network: Bad Name");
    expect(diagnosticsOf(source).map((d) => d.rule)).toEqual(["schema-value"]);
  });
});

describe("the rule table", () => {
  test("every rule has a default severity and a summary", () => {
    for (const [id, info] of Object.entries(RULES)) {
      expect(id).toMatch(/^[a-z]+(?:-[a-z]+)*$/);
      expect(["error", "warning"]).toContain(info.severity);
      expect(info.summary.length).toBeGreaterThan(5);
    }
  });
  test("the README lists every rule with its default severity and whether it can be overridden", async () => {
    const readme = await Bun.file(new URL("../../README.md", import.meta.url)).text();
    const listed = [...readme.matchAll(/^\| `([a-z-]+)` \| (error|warning) \| (yes|no) \|/gm)].map(
      ([, id, severity, overridable]) => [id, severity, overridable === "yes"],
    );
    expect(listed).toEqual(Object.entries(RULES).map(([id, info]) => [id, info.severity, info.overridable]));
  });
});

describe("env-name-collision", () => {
  const gateway = ["exposure: gateway", "gatewayPath: /api"];
  const head = HEAD.replace("ranges:", "gatewayUrl: http://localhost:9080\nranges:");
  test("a gateway service and a service named <it>-gateway derive the same variable", () => {
    expect(diagnosticsOf(head + service("api", 4000, gateway) + service("api-gateway", 4001))).toEqual([
      diagnostic(
        20,
        11,
        "env-name-collision",
        "error",
        "api-gateway derives API_GATEWAY_URL, which api derives too; rename one of them",
      ),
    ]);
  });
  test("without exposure: gateway there is nothing to collide with", () => {
    expect(diagnosticsOf(head + service("api", 4000) + service("api-gateway", 4001))).toEqual([]);
  });
  test("the prefix check agrees with comparing every derived variable", () => {
    // Names from a small pool, so equal prefixes (a-b, a_b) and <name>-gateway pairs are common.
    const pool = [
      "a",
      "b",
      "a-b",
      "a_b",
      "a-gateway",
      "a-b-gateway",
      "a_gateway",
      "gateway",
      "b-gateway-gateway",
    ];
    const services = fc.uniqueArray(
      fc.record({
        name: fc.constantFrom(...pool),
        exposure: fc.constantFrom(undefined, "gateway", "direct"),
      }),
      { selector: (entry) => entry.name, maxLength: 6 },
    );
    fc.assert(
      fc.property(services, fc.boolean(), (entries, hasGatewayUrl) => {
        const partial = entries.map((entry, index) => ({ ...entry, index, rejected: [] }) as PartialService);
        const registry = hasGatewayUrl ? { gatewayUrl: "http://localhost:9080" } : {};
        const owners = new Map<string, string>();
        let isShared = false;
        for (const entry of entries) {
          const names = deriveEnvNames(entry as Pick<Service, "name" | "exposure">, registry);
          for (const variable of Object.values(names)) {
            if (owners.has(variable) && owners.get(variable) !== entry.name) isShared = true;
            owners.set(variable, entry.name);
          }
        }
        expect(canShareEnvNames(partial, hasGatewayUrl)).toBe(isShared);
      }),
      { numRuns: 2000 },
    );
  });
});
