// The metadata of the object a reply carried, kept on the response for filters that run when it
// completes (the request journal needs the name, uid and resourceVersion a create stored).

import type { Response } from 'express';
import type { ObjectMeta } from '../api/object.ts';

const REPLY_METADATA = 'replyMetadata';

export function noteReplyMetadata(res: Response, metadata: ObjectMeta): void {
  res.locals[REPLY_METADATA] = metadata;
}

export function replyMetadata(res: Response): ObjectMeta | undefined {
  return res.locals[REPLY_METADATA] as ObjectMeta | undefined;
}
