// 烟火报警: an AI camera sees smoke or fire (the e-bike shed) — critical, like a smoke detector's alarm.
import { cameraRule } from './lib/camera.js';

export const cameraFire = cameraRule('camera_fire', 'fire_smoke', '烟火报警', 'critical', 'an AI camera reports fire_smoke; only a person resolves it');
