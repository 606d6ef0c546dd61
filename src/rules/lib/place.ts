// Chinese place names for alert titles. Personal data stays minimal (DESIGN.md "Messages are Chinese by
// default, with location and the minimum of personal data"): a room, and a display name only in the care
// alerts a volunteer acts on.
import type { DeviceInfo, HouseholdInfo, LotInfo, SpaceInfo } from '../../config/inventory.js';
import type { GateInfo } from './types.js';

/** 6号楼302 */
export function roomLabel(h: Pick<HouseholdInfo, 'buildingName' | 'room'>): string {
  return `${h.buildingName}${h.room}`;
}

/** 6-302 for 6号楼 302; other building names are kept whole: 东区A座-302. */
export function shortRoom(h: Pick<HouseholdInfo, 'buildingName' | 'room'>): string {
  const n = /^(\d+)\s*(号楼|栋|幢|号)$/.exec(h.buildingName)?.[1];
  return `${n ?? h.buildingName}-${h.room}`;
}

/** 王婆婆家(6-302) for a volunteer; 6号楼302 when the household has no display name. */
export function careLabel(h: Pick<HouseholdInfo, 'buildingName' | 'room' | 'displayName'>): string {
  return h.displayName ? `${h.displayName}家(${shortRoom(h)})` : roomLabel(h);
}

export function whereOf(p: {
  device?: DeviceInfo;
  household?: HouseholdInfo;
  space?: SpaceInfo;
  lot?: LotInfo;
  gate?: GateInfo;
  buildingName?: string;
}): string {
  if (p.household) return roomLabel(p.household);
  if (p.space) return p.space.label ?? p.space.id;
  if (p.gate) return p.gate.name;
  if (p.device?.area) return p.device.area;
  if (p.lot) return p.lot.name;
  if (p.buildingName) return p.buildingName;
  return p.device?.id ?? '';
}

/**
 * A title from a place and what happened there, without saying a word twice: a space labelled
 * "6号楼东侧 消防通道" with "消防通道占用" is "6号楼东侧 消防通道占用", "垃圾分类投放点前 禁停" with "禁停区域违停" is
 * "垃圾分类投放点前 禁停区域违停". The place's last word goes when what follows starts with it.
 */
export function titleOf(where: string, what: string): string {
  const w = where.trim();
  if (!w) return what;
  const cut = w.lastIndexOf(' ');
  const last = w.slice(cut + 1);
  if (cut > 0 && what.startsWith(last)) return `${w.slice(0, cut)} ${what}`;
  if (what.startsWith(w)) return what;
  return `${w} ${what}`;
}
