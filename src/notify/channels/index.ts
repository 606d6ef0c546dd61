import type { Channel, Destination } from './types.js';
import { wecom } from './wecom.js';
import { dingtalk } from './dingtalk.js';
import { feishu } from './feishu.js';
import { webhook } from './webhook.js';

export const channels: Record<Destination['type'], Channel> = { wecom, dingtalk, feishu, webhook };
export * from './types.js';
