// The chat-platform stand-in lives with the simulators (simulators/lib/robotReceiver.ts): the scenario runner
// captures notifications with it too. One implementation; tests import it from here as before.
export * from '../simulators/lib/robotReceiver.js';
