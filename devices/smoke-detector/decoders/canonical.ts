import { canonicalJsonDecoder } from '../../shared/json.js';

export const decoder = canonicalJsonDecoder('烟感 canonical JSON (CONTRACT.md, Canonical payloads)');
