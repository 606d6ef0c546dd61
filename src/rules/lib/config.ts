// Rule settings: each rule's defaults (CONTRACT.md "Alert kinds"), overridden by settings.rules, then the
// community's, the micro-grid's and the household's `rules:` in the inventory — the nearest wins, key by key.
// Every level is validated once at start-up against the rule's schema, and every problem is reported with its
// path (STYLE.md 6), so a typo in a threshold stops start-up instead of silently using the default.
import type { StartupErrorCode } from '../../errors.js';
import { Ajv } from 'ajv';
import type { Inventory } from '../../config/schema.js';
import { closest } from '../../config/suggest.js';
import type { Rule, RuleConfigBase } from './types.js';

export interface RuleLevels {
  settings: Record<string, unknown>;
  communities: readonly Inventory[];
  /** How problems name where they are: the settings file, a community's inventory file. */
  labels?: { settings?: string; community?: (id: string) => string };
}

type Overrides = Record<string, Record<string, unknown>>;

const commonProperties = {
  enabled: { type: 'boolean', description: 'false turns the rule off here' },
  flapHoldMinutes: { type: 'number', minimum: 0, maximum: 1440, description: 'a self-clearing alert back within this time re-opens' },
};

export const COMMON_DEFAULTS: RuleConfigBase = { enabled: true, flapHoldMinutes: 5 };

export class RuleSettings {
  private readonly global: Overrides;
  private readonly community = new Map<string, Overrides>();
  private readonly grid = new Map<string, Overrides>();
  private readonly cache = new Map<string, Map<string, unknown>>();

  /** Throws with every problem listed by path when an override is unknown or invalid. */
  constructor(
    private readonly rules: readonly Rule<any, any>[],
    levels: RuleLevels,
  ) {
    const problems: string[] = [];
    const ajv = new Ajv({ allErrors: true, strict: true });
    const validators = new Map(
      rules.map((r) => [
        r.name,
        ajv.compile({ type: 'object', additionalProperties: false, properties: { ...commonProperties, ...r.configSchema } }),
      ]),
    );
    const check = (where: string, value: unknown): Overrides => {
      if (value === undefined) return {};
      if (!value || typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${where}: must be a mapping of rule names to settings`);
        return {};
      }
      for (const [name, v] of Object.entries(value)) {
        const validate = validators.get(name as Rule['name']);
        if (!validate) {
          const guess = closest(name, rules.map((r) => r.name));
          problems.push(`${where}/${name}: unknown rule${guess ? ` (did you mean '${guess}'?)` : ''} (known: ${rules.map((r) => r.name).join(', ')})`);
          continue;
        }
        if (!validate(v))
          for (const e of validate.errors ?? []) {
            const extra = e.keyword === 'additionalProperties' ? `/${String(e.params.additionalProperty)}` : '';
            problems.push(`${where}/${name}${e.instancePath}${extra}: ${e.keyword === 'additionalProperties' ? 'unknown setting' : e.message}`);
          }
      }
      return value as Overrides;
    };
    const settingsLabel = levels.labels?.settings ?? 'settings';
    const communityLabel = levels.labels?.community ?? ((id: string) => `community ${id}`);
    this.global = check(`${settingsLabel}: /rules`, levels.settings);
    for (const c of levels.communities) {
      const at = communityLabel(c.id);
      this.community.set(c.id, check(`${at}: /rules`, c.rules));
      c.grids.forEach((g, i) => this.grid.set(g.id, check(`${at}: /grids/${i}/rules`, g.rules)));
      c.buildings.forEach((b, i) => b.households.forEach((h, j) => check(`${at}: /buildings/${i}/households/${j}/rules`, h.rules)));
    }
    if (problems.length) throw new RuleSettingsError(problems);
  }

  /** The merged settings of `rule` for a subject in this community, grid and household. */
  resolve<C>(
    rule: Rule<any, any>,
    communityId: string,
    gridId?: string,
    household?: { id: string; rules?: Record<string, unknown> },
    levelKey = `${communityId}|${gridId ?? ''}|${household?.id ?? ''}`,
  ): C {
    let byLevel = this.cache.get(rule.name);
    if (!byLevel) this.cache.set(rule.name, (byLevel = new Map()));
    const hit = byLevel.get(levelKey);
    if (hit) return hit as C;
    const merged = Object.freeze({
      ...COMMON_DEFAULTS,
      ...rule.defaults,
      ...this.global[rule.name],
      ...this.community.get(communityId)?.[rule.name],
      ...(gridId ? this.grid.get(gridId)?.[rule.name] : undefined),
      ...(household?.rules?.[rule.name] as Record<string, unknown> | undefined),
    });
    byLevel.set(levelKey, merged);
    return merged as C;
  }

}

export class RuleSettingsError extends Error {
  readonly code = 'SB_CONFIG_INVALID' satisfies StartupErrorCode;
  constructor(readonly errors: string[]) {
    super(`invalid rule settings (${errors.length} error${errors.length === 1 ? '' : 's'}):\n  - ${errors.join('\n  - ')}`);
  }
}
