// Shared response schemas for the OpenAPI document and fast serialisation.
export const errorSchema = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, code: { type: 'string' }, message: { type: 'string' } },
  required: ['statusCode', 'code', 'message'],
} as const;

export const deviceSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    format: { type: 'string' },
    communityId: { type: 'string' },
    gridId: { type: 'string' },
    buildingId: { type: 'string' },
    householdId: { type: 'string' },
    spaceId: { type: 'string' },
    gateId: { type: 'string' },
    lotId: { type: 'string' },
    area: { type: 'string' },
    online: { type: 'boolean', description: "not offline: status is 'ok' or 'late' (CONTRACT.md; before 0.x it meant connected)" },
    status: {
      type: 'string',
      enum: ['ok', 'late', 'offline'],
      description: "by the device's cadence (正常 / 迟报 / 离线): late a quarter interval after an upload was due, offline when device_offline would open",
    },
    connected: { type: 'boolean', description: 'holds an MQTT connection right now (NB meters connect, upload and hang up: usually false)' },
    lastSeenAt: { type: ['string', 'null'], description: 'last heard: the later of the last arrival and the last event time' },
    cadence: {
      type: 'object',
      description: 'what the status is judged on',
      properties: {
        intervalSeconds: { type: 'number', description: 'expected time between uploads' },
        observed: { type: 'boolean', description: "true: the device's own median interval (water meters, after three uploads); false: the declared heartbeat" },
        nextDueAt: { type: ['string', 'null'] },
        lateAt: { type: ['string', 'null'] },
        offlineAt: { type: ['string', 'null'] },
      },
      required: ['intervalSeconds', 'observed', 'nextDueAt', 'lateAt', 'offlineAt'],
    },
    batteryPct: { type: ['number', 'null'] },
    rssi: { type: ['number', 'null'] },
    state: {
      type: 'object',
      additionalProperties: true,
      properties: {
        lastType: { type: ['string', 'null'] },
        lastEventAt: { type: ['string', 'null'] },
        meterTotalM3: { type: ['number', 'null'] },
        accepted: { type: 'integer' },
        rejected: { type: 'integer' },
        last: { type: ['object', 'null'], additionalProperties: true },
      },
    },
  },
  required: ['id', 'kind', 'communityId', 'online', 'status', 'connected', 'lastSeenAt', 'cadence', 'batteryPct', 'state'],
} as const;
