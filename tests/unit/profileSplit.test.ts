// bench/profileSplit.mjs: a CPU profile's samples bucketed by the stage of the innermost frame that has one.
import { describe, it, expect } from 'vitest';
// @ts-expect-error plain JavaScript module of the bench (no types)
import { split } from '../../bench/profileSplit.mjs';

const frame = (functionName: string, url = '') => ({ functionName, url, scriptId: '0', lineNumber: 0, columnNumber: 0 });

describe('profile split', () => {
  it('puts each sample in the stage of its innermost staged frame; native frames go to their caller; GC and idle apart', () => {
    const nodes = [
      { id: 1, callFrame: frame('(root)'), children: [2, 6, 8, 9, 10] },
      { id: 2, callFrame: frame('onStreamRead', 'node:internal/stream_base_commons'), children: [3] },
      { id: 3, callFrame: frame('authorizePublish', 'file:///srv/dist/src/broker/broker.js'), children: [4] },
      { id: 4, callFrame: frame('processOne', 'file:///srv/dist/src/ingest/pipeline.js'), children: [5, 7] },
      { id: 5, callFrame: frame('run'), children: [] }, // better-sqlite3's native run, called from the pipeline
      { id: 6, callFrame: frame('(garbage collector)'), children: [] },
      { id: 7, callFrame: frame('evaluate', 'file:///srv/dist/src/rules/noWaterUse.js'), children: [11] },
      { id: 8, callFrame: frame('(idle)'), children: [] },
      { id: 9, callFrame: frame('toString'), children: [] }, // not a special name: root's stage
      { id: 10, callFrame: frame('finish', 'file:///srv/bench/serve.mjs'), children: [] },
      { id: 11, callFrame: frame('run', 'file:///srv/node_modules/better-sqlite3/lib/methods/wrappers.js'), children: [] },
    ];
    const samples = [5, 5, 6, 7, 8, 9, 10, 11, 3];
    const timeDeltas = [1000, 1000, 2000, 3000, 50_000, 500, 9000, 4000, 1500];
    const { ms, busyMs } = split({ nodes, samples, timeDeltas });
    expect(ms).toEqual({
      'ingest batching, device state': 2,
      GC: 2,
      'rules, alerts': 3,
      idle: 50,
      other: 0.5,
      'the bench harness (left out)': 9,
      'store: SQLite, history': 4,
      'MQTT: aedes, mqtt-packet, sockets': 1.5,
    });
    expect(busyMs).toBe(13); // idle and the harness left out
  });
});
