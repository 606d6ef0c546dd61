import { describe, it, expect } from 'vitest';
import { RuleSettings, RuleSettingsError } from '../../../src/rules/lib/config.js';
import { rules } from '../../../src/rules/index.js';
import { noWaterUse } from '../../../src/rules/noWaterUse.js';
import type { Inventory } from '../../../src/config/schema.js';

const community = (rulesAt: { community?: object; grid?: object; household?: object }): Inventory =>
  ({
    id: 'c1',
    name: '演示小区',
    grids: [{ id: 'g1', name: '一网格', rules: rulesAt.grid }],
    buildings: [{ id: 'b1', name: '1号楼', gridId: 'g1', households: [{ id: 'h1', room: '101', rules: rulesAt.household }] }],
    parkingLots: [],
    devices: [],
    people: [],
    rules: rulesAt.community,
  }) as unknown as Inventory;

function errors(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof RuleSettingsError) return err.errors;
    throw err;
  }
  throw new Error('expected RuleSettingsError');
}

describe('rule settings', () => {
  it('takes the nearest override key by key: household over grid over community over settings', () => {
    const s = new RuleSettings(rules, {
      settings: { no_water_use: { windowHours: 24, minLitres: 8 } },
      communities: [community({ community: { no_water_use: { minLitres: 6 } }, grid: { no_water_use: { settleMinutes: 0 } }, household: { no_water_use: { windowHours: 6 } } })],
    });
    const household = { id: 'h1', rules: { no_water_use: { windowHours: 6 } } };
    expect(s.resolve(noWaterUse, 'c1', 'g1', household)).toMatchObject({ windowHours: 6, minLitres: 6, settleMinutes: 0, resumeLitres: 1, enabled: true });
    expect(s.resolve(noWaterUse, 'c1', 'g1')).toMatchObject({ windowHours: 24, minLitres: 6, settleMinutes: 0 });
    expect(s.resolve(noWaterUse, 'other')).toMatchObject({ windowHours: 24, minLitres: 8, settleMinutes: 10 });
  });

  it('reports every unknown rule, unknown key and bad value with its path', () => {
    const problems = errors(
      () =>
        new RuleSettings(rules, {
          settings: { no_water: {}, illegal_parking: { fireLaneMinutes: -1 } },
          communities: [community({ grid: { smoke: { colour: 'red' } }, household: { no_water_use: { windowHours: 'twelve' } } })],
        }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^settings: \/rules\/no_water: unknown rule/),
      'settings: /rules/illegal_parking/fireLaneMinutes: must be >= 0',
      'community c1: /grids/0/rules/smoke/colour: unknown setting',
      'community c1: /buildings/0/households/0/rules/no_water_use/windowHours: must be number',
    ]);
  });
});
