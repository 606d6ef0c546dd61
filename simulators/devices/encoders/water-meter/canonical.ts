// 智能水表 canonical JSON (CONTRACT.md, Canonical payloads): the payload is the message.
import { json, type Encoder } from '../types.js';

export const encoder: Encoder = { kind: 'water-meter', format: 'canonical', carriesTime: true, encode: (p) => json(p) };
