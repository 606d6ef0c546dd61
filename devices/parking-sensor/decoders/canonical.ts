import { canonicalJsonDecoder } from '../../shared/json.js';

export const decoder = canonicalJsonDecoder('地磁车位 canonical JSON (CONTRACT.md, Canonical payloads)');
