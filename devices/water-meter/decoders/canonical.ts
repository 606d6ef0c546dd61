import { canonicalJsonDecoder } from '../../shared/json.js';

export const decoder = canonicalJsonDecoder('智能水表 canonical JSON (CONTRACT.md, Canonical payloads)');
