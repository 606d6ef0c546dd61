// Notification settings that the schema alone cannot judge, checked when the configuration loads (with every
// other mistake, by path, exit 78): destination ids are unique, every destination a person or a household names exists, and
// the digest's cron expression parses. The notifier runs the same check when it starts.
import cron from 'node-cron';
import type { Inventory, Settings } from '../config/schema.js';

export interface Labels {
  settings: string;
  community(id: string): string;
}

const DEFAULT_LABELS: Labels = { settings: 'settings', community: (id) => id };

export function notifyProblems(notify: Settings['notify'], communities: readonly Inventory[], labels: Labels = DEFAULT_LABELS): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  (notify.destinations ?? []).forEach((d, i) => {
    if (ids.has(d.id)) problems.push(`${labels.settings}: /notify/destinations/${i}/id: '${d.id}' is used twice`);
    ids.add(d.id);
  });
  for (const c of communities)
    c.buildings.forEach((b, i) =>
      b.households.forEach((h, j) =>
        (h.destinations ?? []).forEach((d, k) => {
          if (!ids.has(d)) problems.push(`${labels.community(c.id)}: /buildings/${i}/households/${j}/destinations/${k}: no destination '${d}' in settings notify.destinations`);
        }),
      ),
    );
  for (const c of communities)
    c.people.forEach((p, i) =>
      (p.channels?.destinations ?? []).forEach((d, j) => {
        if (!ids.has(d)) problems.push(`${labels.community(c.id)}: /people/${i}/channels/destinations/${j}: no destination '${d}' in settings notify.destinations`);
      }),
    );
  const expr = notify.digest?.cron;
  if (expr !== undefined && !cron.validate(expr)) problems.push(`${labels.settings}: /notify/digest/cron: '${expr}' is not a cron expression`);
  return problems;
}
