// 烟感 canonical JSON (CONTRACT.md, Canonical payloads): the payload is the message.
import { json, type Encoder } from '../types.js';

export const encoder: Encoder = { kind: 'smoke-detector', format: 'canonical', carriesTime: true, encode: (p) => json(p) };
