// Every device kind shaobing knows: each folder here with an index.ts exporting `kind` (a DeviceKindDef).
// Adding a kind = its folder (schema.json, decoders/, examples/, index.ts, README.md) and nothing else: the
// inventory's kind list, the health rules, placement checks, telemetry fields and the console's labels are
// all derived from the registered kinds (tests/unit/registries.test.ts walks them).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DeviceKindDef } from '../src/ingest/types.js';

/** The kinds in these folders' sub-folders, by name; from src/ (index.ts, tsx) or from dist/ (index.js). */
export async function loadDeviceKinds(dirs: readonly string[]): Promise<DeviceKindDef[]> {
  const out: DeviceKindDef[] = [];
  for (const dir of dirs) {
    for (const name of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
      const file = ['index.js', 'index.ts'].map((f) => join(dir, name, f)).find((f) => existsSync(f));
      if (!file) continue; // shared/: parts, not a kind
      const mod = (await import(pathToFileURL(file).href)) as { kind?: DeviceKindDef };
      if (!mod.kind) throw new Error(`${file}: exports no \`kind\``);
      if (mod.kind.kind !== name) throw new Error(`${file}: kind '${mod.kind.kind}' is not its folder's name '${name}'`);
      out.push(mod.kind);
    }
  }
  return out;
}

export const deviceKinds: readonly DeviceKindDef[] = Object.freeze(await loadDeviceKinds([fileURLToPath(new URL('.', import.meta.url))]));

export function findKind(kind: string): DeviceKindDef | undefined {
  return deviceKinds.find((def) => def.kind === kind);
}
