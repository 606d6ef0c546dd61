// 智能摄像机 canonical JSON (devices/ai-camera/README.md): the payload is the message; a `snapshotBytes` in it is
// sent as a base64 JPEG of that size in `snapshot` (the decoder turns it back into `snapshotBytes`).
import { json, type Encoder } from '../types.js';
import { snapshotOf } from './snapshot.js';

export const encoder: Encoder = {
  kind: 'ai-camera',
  format: 'canonical',
  carriesTime: true,
  encode(p) {
    const { snapshotBytes, ...rest } = p;
    return typeof snapshotBytes === 'number' ? json({ ...rest, snapshot: snapshotOf(snapshotBytes).toString('base64') }) : json(p);
  },
};
