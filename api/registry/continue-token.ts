// Continue tokens as kube-apiserver encodes them (k8s.io/apiserver/pkg/storage/continue.go):
// base64 of {"v":"meta.k8s.io/v1","rv":<list revision>,"start":"<key after the prefix>"}.
// A client passes the token back to read the next page of the same consistent snapshot.

import { badRequest } from '../errors.ts';

export interface ContinueState {
  revision: number;
  /** Key (relative to the list prefix) of the last item returned; the next page starts after it. */
  startAfter: string;
}

export function encodeContinue(state: ContinueState): string {
  const json = JSON.stringify({ v: 'meta.k8s.io/v1', rv: state.revision, start: `${state.startAfter}\u0000` });
  return Buffer.from(json).toString('base64url');
}

export function decodeContinue(token: string): ContinueState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('continue key is not valid: ' + 'illegal base64 data');
  }
  if (typeof parsed !== 'object' || parsed === null) throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  const { v, rv, start } = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (v !== 'meta.k8s.io/v1') throw badRequest('continue key is not valid: server does not recognize this encoded version');
  if (typeof rv !== 'number' || rv <= 0 || !Number.isInteger(rv)) throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (typeof start !== 'string' || start.length === 0) throw badRequest('continue key is not valid: encoded start key empty');
  const startAfter = start.endsWith('\u0000') ? start.slice(0, -1) : start;
  if (startAfter.includes('..') || startAfter.startsWith('/')) throw badRequest('continue key is not valid: path traversal not allowed');
  return { revision: rv, startAfter };
}
