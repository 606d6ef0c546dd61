import { describe } from 'vitest';
import { garbageOverflow } from '../../../src/rules/garbageOverflow.js';
import { cameraRuleSpec } from './cameraSpec.js';

describe('garbage_overflow', () => {
  cameraRuleSpec(garbageOverflow, 'garbage_overflow', 'minor', '3号楼 1号电梯 垃圾满溢');
});
