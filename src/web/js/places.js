// Lookups built from GET api/me, to name where things are: grids, buildings, households, lots, people.
import { ROLE, setUtcOffsetMinutes } from './zh.js';

export function buildPlaces(me, people) {
  // Every time the console shows is in the communities' local time (zh.js), set before anything renders one.
  if (me) setUtcOffsetMinutes(me.utcOffsetMinutes);
  const grids = new Map((me?.grids ?? []).map((g) => [g.id, g]));
  const buildings = new Map((me?.buildings ?? []).map((b) => [b.id, b]));
  const households = new Map((me?.households ?? []).map((h) => [h.id, h]));
  const lots = new Map((me?.lots ?? []).map((l) => [l.id, l]));
  const persons = new Map((people ?? []).map((p) => [p.id, p]));
  const placesObj = {
    grids,
    buildings,
    households,
    lots,
    persons,
    gridName: (id) => grids.get(id)?.name ?? id,
    /** A person's name for the timeline and "who has it": 系统 for the rules, 管理员 for the admin token. */
    personName(id) {
      if (!id) return '';
      if (id === 'system') return '系统';
      if (id === 'admin') return '管理员';
      if (id === me?.id) return me.displayName;
      // A resident's own step (filing, 评单): the household, as staff know it.
      if (id.startsWith('device:')) return `设备 ${id.slice(7)}`;
      if (id.startsWith('resident:')) return `居民（${placesObj.household(id.slice(9))?.label ?? '住户'}）`;
      return persons.get(id)?.displayName ?? id;
    },
    /** 6号楼 302室 (王婆婆), or null when the household is not known here. */
    household(id) {
      const h = households.get(id);
      if (!h) return null;
      const b = buildings.get(h.buildingId);
      return { label: `${b?.name ?? ''} ${h.room}室`.trim(), elder: h.displayName ?? null, gridId: h.gridId };
    },
    /** Where a device is: its household, its building, its lot, or its grid. */
    deviceWhere(d) {
      const h = d.householdId && this.household(d.householdId);
      if (h) return h.label;
      if (d.area) return d.area;
      if (d.buildingId && buildings.get(d.buildingId)) return buildings.get(d.buildingId).name;
      if (d.lotId && lots.get(d.lotId)) return lots.get(d.lotId).name;
      return this.gridName(d.gridId);
    },
  };
  return placesObj;
}

export function rolesText(roles) {
  return (roles ?? []).map((r) => ROLE[r] ?? r).join('、');
}
