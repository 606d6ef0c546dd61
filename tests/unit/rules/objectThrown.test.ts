import { describe } from 'vitest';
import { objectThrown } from '../../../src/rules/objectThrown.js';
import { cameraRuleSpec } from './cameraSpec.js';

describe('object_thrown', () => {
  cameraRuleSpec(objectThrown, 'object_thrown', 'major', '3号楼 1号电梯 高空抛物');
});
