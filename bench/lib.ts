// What the benchmarks share: command-line numbers and a generated bench community.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashSecret } from '../src/broker/secrets.js';

export const COMMUNITY = 'bench';

/** `--name 123` on the command line, else the default. */
export function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/** [id, secret] pairs for n simulated devices. */
export function benchDevices(n: number, prefix = 'bench-wm'): Array<[string, string]> {
  return Array.from({ length: n }, (_, i) => [`${prefix}-${i}`, `${prefix}-secret-${i}-0123456789`]);
}

/**
 * An inventory file for community `bench`: one household per device (lone elders when asked, so every rule
 * of a lone elder's meter runs), the devices with hashed secrets, and extra `people:` lines.
 */
export function writeBenchInventory(
  dir: string,
  groups: Array<{ kind: 'water-meter' | 'smoke-detector'; devices: Array<[string, string]> }>,
  opts: { loneElder?: boolean; people?: string[]; communityId?: string } = {},
): string {
  const community = opts.communityId ?? COMMUNITY;
  // Ids are unique across communities: another community's are prefixed with its id.
  const p = opts.communityId ? `${opts.communityId}-` : 'b';
  const households: string[] = [];
  const devices: string[] = [];
  let h = 0;
  for (const g of groups)
    for (const [id, secret] of g.devices) {
      households.push(`      - { id: ${p}h-${h}, room: "${1000 + h}"${opts.loneElder ? ', loneElder: true' : ''} }`);
      devices.push(`  - { id: ${id}, kind: ${g.kind}, householdId: ${p}h-${h}, secretHash: "${hashSecret(secret)}" }`);
      h++;
    }
  const lines = [
    `id: ${community}`,
    'name: 基准小区',
    `grids: [{ id: ${p}g1, name: 基准网格 }]`,
    'buildings:',
    `  - id: ${p}b1`,
    '    name: 1号楼',
    `    gridId: ${p}g1`,
    '    households:',
    ...households,
    'devices:',
    ...devices,
    ...(opts.people?.length ? ['people:', ...opts.people] : []),
  ];
  const path = join(dir, `${community}.yaml`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** Put `section` (a markdown text starting with `## heading`) into BENCHMARKS.md, replacing that section. */
export function writeBenchmarkSection(heading: string, section: string): void {
  const file = new URL('../BENCHMARKS.md', import.meta.url);
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = text.indexOf(`## ${heading}`);
  let next: string;
  if (start < 0) next = `${text.trimEnd()}\n\n${section}`;
  else {
    const end = text.indexOf('\n## ', start + 1);
    next = `${text.slice(0, start)}${section}${end < 0 ? '' : `\n${text.slice(end + 1)}`}`;
  }
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
  console.error(`BENCHMARKS.md: section "${heading}" written`);
}
