// 垃圾满溢: rubbish piling up at a collection point.
import { cameraRule } from './lib/camera.js';

export const garbageOverflow = cameraRule('garbage_overflow', 'garbage_overflow', '垃圾满溢', 'minor', 'an AI camera reports garbage_overflow; only a person resolves it');
