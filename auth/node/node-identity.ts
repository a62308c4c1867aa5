// pkg/auth/nodeidentifier: a user is a node when its name starts with `system:node:` and it is in the
// system:nodes group; the rest of the name is the node's name ('' when missing: an unidentifiable node).

import type { UserInfo } from '../user.ts';
import { NODE_USER_PREFIX, NODES_GROUP } from '../well-known.ts';

export function nodeIdentity(user: UserInfo): { isNode: false } | { isNode: true; nodeName: string } {
  if (!user.username.startsWith(NODE_USER_PREFIX) || !user.groups.includes(NODES_GROUP)) return { isNode: false };
  return { isNode: true, nodeName: user.username.slice(NODE_USER_PREFIX.length) };
}
