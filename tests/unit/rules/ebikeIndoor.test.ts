import { describe } from 'vitest';
import { ebikeIndoor } from '../../../src/rules/ebikeIndoor.js';
import { cameraRuleSpec } from './cameraSpec.js';

describe('ebike_indoor', () => {
  cameraRuleSpec(ebikeIndoor, 'ebike_indoor', 'minor', '3号楼 1号电梯 电动车违规停放');
});
