// 电动车违规停放: an e-bike parked or charging in a corridor or hall.
import { cameraRule } from './lib/camera.js';

export const ebikeIndoor = cameraRule('ebike_indoor', 'ebike_indoor', '电动车违规停放', 'minor', 'an AI camera reports ebike_indoor; only a person resolves it');
