// 地磁车位 canonical JSON (CONTRACT.md, Canonical payloads): the payload is the message.
import { json, type Encoder } from '../types.js';

export const encoder: Encoder = { kind: 'parking-sensor', format: 'canonical', carriesTime: true, encode: (p) => json(p) };
