// The SMS and voice platforms' stand-in lives with the simulators (simulators/lib/phoneReceiver.ts): scenarios use it too.
export * from '../simulators/lib/phoneReceiver.js';
