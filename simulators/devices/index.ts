// The device simulators, one per kind; the format (and so the bytes) comes from the device's own `format`.
import type { DeviceIdentity, SimulatedDevice } from './device.js';
import { SmokeDetectorSim } from './smoke-detector.js';
import { WaterMeterSim } from './water-meter.js';
import { ParkingSensorSim } from './parking-sensor.js';
import { SmartGateSim } from './smart-gate.js';
import { AiCameraSim } from './ai-camera.js';

export { DeviceClient, SimulatedDevice, uplinkTopic, type DeviceIdentity, type SimMessage, type Helper, type HelperArgs } from './device.js';
export { SmokeDetectorSim, WaterMeterSim, ParkingSensorSim, SmartGateSim, AiCameraSim };
export { encoders, findEncoder } from './encoders/index.js';

const KINDS: Record<string, new (info: DeviceIdentity) => SimulatedDevice> = {
  'smoke-detector': SmokeDetectorSim,
  'water-meter': WaterMeterSim,
  'parking-sensor': ParkingSensorSim,
  'smart-gate': SmartGateSim,
  'ai-camera': AiCameraSim,
};

export function createDevice(info: DeviceIdentity): SimulatedDevice {
  const Sim = KINDS[info.kind];
  if (!Sim) throw new Error(`no simulator for device kind '${info.kind}'`);
  return new Sim(info);
}
