// Continue tokens as kube-apiserver encodes them (k8s.io/apiserver/pkg/storage/continue.go):
// base64 of {"v":"meta.k8s.io/v1","rv":<list revision>,"start":"<key after the prefix>"}.
// A client passes the token back to read the next page of the same consistent snapshot.

import { badRequest } from '../errors.ts';
import { displayValue } from '../object.ts';

export interface ContinueState {
  /** The list's snapshot revision, or -1: the latest state. */
  revision: number;
  /** Key (relative to the list prefix) of the last item returned; the next page starts after it. */
  startAfter: string;
}

export function encodeContinue(state: ContinueState): string {
  const json = JSON.stringify({ v: 'meta.k8s.io/v1', rv: state.revision, start: `${state.startAfter}\u0000` });
  return Buffer.from(json).toString('base64url');
}

/**
 * DecodeContinue, with the 400 the etcd3 store wraps its errors in (`invalid continue token: ...`).
 * A revision of -1 is what an expired-continue Status hands out: continue at the latest state.
 */
export function decodeContinue(token: string): ContinueState {
  const invalidToken = (why: string) => badRequest(`invalid continue token: continue key is not valid: ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (err) {
    throw invalidToken((err as Error).message);
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalidToken('json: cannot unmarshal into Go value of type storage.continueToken');
  const { v, rv, start } = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (v !== 'meta.k8s.io/v1') throw invalidToken(`server does not recognize this encoded version ${JSON.stringify(displayValue(v ?? ''))}`);
  if (typeof rv !== 'number' || !Number.isInteger(rv) || rv === 0 || rv < -1) {
    throw invalidToken('incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  if (typeof start !== 'string' || start.length === 0) throw invalidToken('encoded start key empty (version meta.k8s.io/v1)');
  const startAfter = start.endsWith('\u0000') ? start.slice(0, -1) : start;
  // path.Clean must leave the key alone: no way above the listed prefix.
  if (startAfter.split('/').some((segment) => segment === '..' || segment === '.') || startAfter.startsWith('/') || startAfter.includes('//')) {
    throw invalidToken(start);
  }
  return { revision: rv, startAfter };
}
