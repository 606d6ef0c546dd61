// 高空抛物: something thrown from a height — property and the residents' committee, with the snapshot.
import { cameraRule } from './lib/camera.js';

export const objectThrown = cameraRule('object_thrown', 'object_thrown', '高空抛物', 'major', 'an AI camera reports object_thrown; only a person resolves it');
