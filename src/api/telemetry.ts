// History of one device from the active telemetry sink: water use per hour or day, parking occupancy,
// battery. Scoped to the caller's grids like every device route (outside them looks absent: 404).
import type { SchemaTypes } from './typeProvider.js';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './index.js';
import { inScope } from './scope.js';
import { errorSchema } from './schemas.js';
import { AppError } from '../errors.js';
import { apiTime } from './time.js';
import type { HistoryField } from '../telemetry/sink.js';

const MAX_BUCKETS = 2000;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const UNITS: Record<HistoryField, string> = { water: 'L', occupancy: 'fraction', battery: '%' };

const rangeError = (message: string) => new AppError('SB_TELEMETRY_RANGE', message);

/** RFC 3339 or epoch milliseconds, as device timestamps are (CONTRACT.md). */
function parseTime(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined || v === '') return dflt;
  return apiTime(name, v, 'SB_TELEMETRY_RANGE');
}

function parseEvery(v: string): number {
  const m = /^([1-9][0-9]{0,5})([mhd])$/.exec(v);
  if (!m) throw rangeError(`every: '${v}' is not a bucket size such as 15m, 1h or 1d`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

const bucketSchema = {
  type: 'object',
  properties: { start: { type: 'string' }, value: { type: ['number', 'null'] } },
  required: ['start', 'value'],
} as const;

export default async function telemetryApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  /** Which fields a kind has, the first being the default: its definition's `historyFields`. */
  const FIELDS = new Map(deps.kinds.map((k) => [k.kind, k.historyFields]));
  app.withTypeProvider<SchemaTypes>().get(
    '/api/devices/:id/telemetry',
    {
      schema: {
        summary: 'History of one device: water use (litres), parking occupancy (fraction of time), battery (%)',
        description:
          'Buckets are [from + i·every, from + (i+1)·every): `from` sets their alignment (e.g. local midnight for days). ' +
          'Defaults: to = now, every = 1h, from = 24 buckets before to, field = water for meters, occupancy for parking sensors, else battery. ' +
          'A bucket no data covers is null, not 0.',
        tags: ['devices', 'telemetry'],
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', maxLength: 64, description: 'RFC 3339 or epoch ms, 2000–2100' },
            to: { type: 'string', maxLength: 64, description: 'RFC 3339 or epoch ms, 2000–2100' },
            every: { type: 'string', description: 'bucket size: <n>m, <n>h or <n>d', default: '1h' },
            field: { enum: ['water', 'occupancy', 'battery'] },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              deviceId: { type: 'string' },
              kind: { type: 'string' },
              field: { type: 'string' },
              unit: { type: 'string' },
              sink: { type: 'string' },
              from: { type: 'string' },
              to: { type: 'string' },
              every: { type: 'string' },
              source: { type: 'string' },
              buckets: { type: 'array', items: bucketSchema },
              changes: {
                type: 'array',
                items: { type: 'object', properties: { at: { type: 'string' }, occupied: { type: 'boolean' } }, required: ['at', 'occupied'] },
              },
            },
            required: ['deviceId', 'kind', 'field', 'unit', 'sink', 'from', 'to', 'every', 'buckets'],
          },
          '4xx': errorSchema,
          '5xx': errorSchema,
        },
      },
    },
    async (req) => {
      const d =
        deps.directory.devices.get(req.params.id) ??
        (() => {
          const row = deps.devicesRepo.find(req.params.id);
          return row && deps.directory.communities.has(row.communityId) ? deps.directory.addDevice(row) : undefined;
        })();
      if (!d || !inScope(req.principal, d)) throw new AppError('SB_NOT_FOUND', `no device '${req.params.id}'`);

      const fields = FIELDS.get(d.kind) ?? [];
      const field: HistoryField | undefined = req.query.field ?? fields[0];
      if (!field || !fields.includes(field))
        throw new AppError('SB_TELEMETRY_FIELD', `field: a ${d.kind} has no '${field}' history (it has: ${fields.join(', ')})`);
      const everyText = req.query.every ?? '1h';
      const every = parseEvery(everyText);
      const now = deps.clock.now();
      const to = parseTime('to', req.query.to, now);
      const from = parseTime('from', req.query.from, to - 24 * every);
      if (from >= to) throw rangeError(`from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`);
      const n = Math.ceil((to - from) / every);
      if (n > MAX_BUCKETS) throw rangeError(`${n} buckets of ${everyText} asked for; at most ${MAX_BUCKETS}: use a larger every or a shorter range`);

      const sink = deps.telemetry;
      if (!sink || sink.name === 'none') throw new AppError('SB_TELEMETRY_DISABLED', 'no telemetry history is kept (settings telemetry.sink is none)');
      let result;
      try {
        result = await sink.query({ device: d, field, from, to, every, now });
      } catch (err) {
        if (err instanceof AppError) throw err;
        req.log.warn({ err, deviceId: d.id, sink: sink.name }, 'telemetry history query failed');
        throw new AppError('SB_TELEMETRY_UNAVAILABLE', `the ${sink.name} telemetry store did not answer`);
      }
      const iso = (t: number) => new Date(t).toISOString();
      return {
        deviceId: d.id,
        kind: d.kind,
        field,
        unit: UNITS[field],
        sink: sink.name,
        from: iso(from),
        to: iso(to),
        every: everyText,
        source: result.source,
        buckets: result.buckets.map((b) => ({ start: iso(b.start), value: b.value })),
        changes: result.changes?.map((c) => ({ at: iso(c.at), occupied: c.occupied })),
      };
    },
  );
}
