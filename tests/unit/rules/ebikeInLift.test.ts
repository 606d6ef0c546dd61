import { describe } from 'vitest';
import { ebikeInLift } from '../../../src/rules/ebikeInLift.js';
import { cameraRuleSpec } from './cameraSpec.js';

describe('ebike_in_lift', () => {
  cameraRuleSpec(ebikeInLift, 'ebike_in_lift', 'major', '3号楼 1号电梯 电动车进电梯');
});
