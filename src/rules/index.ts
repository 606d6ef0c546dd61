// Every rule shaobing runs. Adding a rule = one file in this folder and one line here; tests/unit/rules/
// registry.test.ts fails if a file is left out or has no test (STYLE.md 5).
import type { Rule } from './lib/types.js';
import { smoke } from './smoke.js';
import { noWaterUse } from './noWaterUse.js';
import { continuousWaterFlow } from './continuousWaterFlow.js';
import { illegalParking } from './illegalParking.js';
import { unregisteredVehicle } from './unregisteredVehicle.js';
import { visitorOverstay } from './visitorOverstay.js';
import { lotFull } from './lotFull.js';
import { deviceOffline } from './deviceOffline.js';
import { lowBattery } from './lowBattery.js';
import { deviceTamper } from './deviceTamper.js';
import { deviceFault } from './deviceFault.js';
import { missedCheck } from './missedCheck.js';
import { slowLeak } from './slowLeak.js';
import { cameraFire } from './cameraFire.js';
import { ebikeInLift } from './ebikeInLift.js';
import { ebikeIndoor } from './ebikeIndoor.js';
import { objectThrown } from './objectThrown.js';
import { garbageOverflow } from './garbageOverflow.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each rule has its own state and settings types
export const rules: readonly Rule<any, any>[] = Object.freeze([
  smoke,
  noWaterUse,
  continuousWaterFlow,
  illegalParking,
  unregisteredVehicle,
  visitorOverstay,
  lotFull,
  deviceOffline,
  lowBattery,
  deviceTamper,
  deviceFault,
  missedCheck,
  slowLeak,
  cameraFire,
  ebikeInLift,
  ebikeIndoor,
  objectThrown,
  garbageOverflow,
]);
