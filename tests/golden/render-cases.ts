/**
 * The registries whose every generated file is kept as a golden file, rendered the way sync renders
 * them (header naming config/ports/registry.yaml wherever the registry file really lives).
 */
import { join } from "node:path";
import { DEFAULT_REGISTRY_PATH } from "../../lib/load.ts";
import { type Output, renderAll } from "../../lib/render.ts";
import type { Registry } from "../../lib/schema.ts";
import { validateRegistryFile } from "../../lib/validate.ts";
import { FIXTURES, REPO, TRADINGSYSTEM } from "../core/support.ts";

export type RenderCase = { name: string; registryPath: string };

export const RENDER_CASES: RenderCase[] = [
  // A frozen copy of the default registry as the toolkit ships it: a team's edits to
  // config/ports/registry.yaml must not fail the toolkit's own tests (the pre-push hook runs them).
  { name: "default", registryPath: join(FIXTURES, "sync", "default", "registry.yaml") },
  { name: "tradingsystem", registryPath: TRADINGSYSTEM },
  { name: "hostile", registryPath: join(FIXTURES, "sync", "hostile", "registry.yaml") },
];

export async function loadValid(registryPath: string): Promise<Registry> {
  const result = await validateRegistryFile(registryPath, REPO);
  if (!result.registry) {
    throw new Error(`${registryPath} is not valid: ${JSON.stringify(result.diagnostics, null, 2)}`);
  }
  return result.registry;
}

export async function renderCase(item: RenderCase): Promise<Output[]> {
  return renderAll(await loadValid(item.registryPath), { registryFile: DEFAULT_REGISTRY_PATH });
}
