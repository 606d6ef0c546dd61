// A V8 CPU profile (node:inspector Profiler.stop, or a --cpu-prof file) bucketed by what the code is: each
// sample goes to the innermost frame on its stack whose script belongs to a stage (a native or builtin frame —
// JSON.parse, a SQLite statement's run, ajv's generated code — goes to the stage that called it).
// Used by bench/serve.mjs; standalone: node bench/profileSplit.mjs FILE.cpuprofile

/** [stage, test on the frame's url] in order; the first that matches names the frame's stage. */
const STAGES = [
  ['the bench harness (left out)', (u) => /\/bench\/serve\.mjs$/.test(u) || u === 'node:inspector'],
  ['MQTT: aedes, mqtt-packet, sockets', (u) => /node_modules\/(aedes|aedes-[^/]+|mqtt-packet|bl|readable-stream|fastfall|fastparallel|fastseries|reusify|retimer|hyperid|uuid|mqemitter)\//.test(u) || /^node:(net|stream|internal\/(streams|stream_base_commons|net))/.test(u) || /\/src\/(broker|transport)\//.test(u)],
  ['decode, validate', (u) => /\/devices\//.test(u) || /node_modules\/(ajv|ajv-formats|fast-uri|fast-deep-equal)\//.test(u) || /\/src\/ingest\/(validate|reading)\./.test(u)],
  ['ingest batching, device state', (u) => /\/src\/(ingest|state|clock)\//.test(u)],
  ['rules, alerts', (u) => /\/src\/(rules|alerts)\//.test(u)],
  ['store: SQLite, history', (u) => /node_modules\/better-sqlite3\//.test(u) || /\/src\/(store|telemetry)\//.test(u)],
  ['metrics (prom-client)', (u) => /node_modules\/(prom-client|tdigest|bintrees)\//.test(u) || /\/src\/metrics\./.test(u)],
  ['event bus, app', (u) => /\/src\/(bus|app|units)[./]/.test(u)],
  ['logging', (u) => /node_modules\/(pino|sonic-boom|thread-stream)\//.test(u)],
];

const SPECIAL = { '(garbage collector)': 'GC', '(idle)': 'idle', '(program)': 'V8 and native, not attributed (program)', '(root)': 'other' };

/** ms per stage, and the total (idle and the harness's own profiler calls excluded). */
export function split(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = new Map();
  const stage = (id) => {
    if (stageOf.has(id)) return stageOf.get(id);
    const n = byId.get(id);
    const fn = n.callFrame.functionName;
    let s = Object.hasOwn(SPECIAL, fn) ? SPECIAL[fn] : undefined;
    if (!s) {
      const url = n.callFrame.url ?? '';
      s = url ? STAGES.find(([, test]) => test(url))?.[0] : undefined;
      if (!s) s = parent.has(id) ? stage(parent.get(id)) : 'other';
    }
    stageOf.set(id, s);
    return s;
  };
  const ms = {};
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const s = stage(samples[i]);
    ms[s] = (ms[s] ?? 0) + (timeDeltas[i] ?? 0) / 1000;
  }
  const busy = Object.entries(ms).reduce((a, [k, v]) => (k === 'idle' || k.endsWith('(left out)') ? a : a + v), 0);
  return { ms, busyMs: busy };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFileSync } = await import('node:fs');
  const { ms, busyMs } = split(JSON.parse(readFileSync(process.argv[2], 'utf8')));
  for (const [k, v] of Object.entries(ms).sort((a, b) => b[1] - a[1])) console.log(`${k.padEnd(45)} ${v.toFixed(0).padStart(7)} ms ${k === 'idle' ? '' : `${((100 * v) / busyMs).toFixed(1)} %`}`);
}
