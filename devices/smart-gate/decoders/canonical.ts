import { canonicalJsonDecoder } from '../../shared/json.js';

export const decoder = canonicalJsonDecoder('道闸车牌识别 canonical JSON (CONTRACT.md, Canonical payloads)');
