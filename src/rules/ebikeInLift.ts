// 电动车进电梯: an AI camera in a lift car sees an e-bike — property duty at once.
import { cameraRule } from './lib/camera.js';

export const ebikeInLift = cameraRule('ebike_in_lift', 'ebike_in_lift', '电动车进电梯', 'major', 'an AI camera reports ebike_in_lift; only a person resolves it');
