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
    online: { type: 'boolean' },
    lastSeenAt: { type: ['string', 'null'] },
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
  required: ['id', 'kind', 'communityId', 'online', 'lastSeenAt', 'batteryPct', 'state'],
} as const;
