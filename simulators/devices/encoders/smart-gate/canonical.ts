// 道闸车牌识别 canonical JSON (CONTRACT.md, Canonical payloads): the payload is the message.
import { json, type Encoder } from '../types.js';

export const encoder: Encoder = { kind: 'smart-gate', format: 'canonical', carriesTime: true, encode: (p) => json(p) };
