import { describe } from 'vitest';
import { cameraFire } from '../../../src/rules/cameraFire.js';
import { cameraRuleSpec } from './cameraSpec.js';

describe('camera_fire', () => {
  cameraRuleSpec(cameraFire, 'fire_smoke', 'critical', '3号楼 1号电梯 烟火报警');
});
