// Server-owned metadata: what kube-apiserver fills in on create (rest.FillObjectMetaSystemFields,
// names.SimpleNameGenerator) and keeps from the stored object on update.

import { randomUUID } from 'node:crypto';
import type { KubeObject, ObjectMeta } from '../object.ts';

/** RFC 3339 with second precision, as metav1.Time marshals. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// names.SimpleNameGenerator: 5 characters from an alphabet without vowels and confusable digits.
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_GENERATE_NAME_PREFIX = 63 - 5;

export function generateName(base: string): string {
  const prefix = base.length > MAX_GENERATE_NAME_PREFIX ? base.slice(0, MAX_GENERATE_NAME_PREFIX) : base;
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
  return prefix + suffix;
}

/** Fields a client may not set on create: kube-apiserver overwrites or clears them. */
export function fillSystemFieldsOnCreate(object: KubeObject, now: Date, tracksGeneration: boolean): void {
  const meta = object.metadata;
  meta.uid = randomUUID();
  meta.creationTimestamp = rfc3339(now);
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.selfLink;
  if (tracksGeneration) meta.generation = 1;
  else delete meta.generation;
}

/** On update, system fields come from the stored object whatever the client sent (except a conflicting uid). */
export function keepSystemFieldsOnUpdate(object: KubeObject, old: KubeObject): void {
  const meta = object.metadata;
  const oldMeta = old.metadata;
  // rest.BeforeUpdate: a missing uid is taken from the stored object; a different one is left for
  // metadata validation to refuse (field is immutable).
  if (!meta.uid) meta.uid = oldMeta.uid;
  meta.creationTimestamp = oldMeta.creationTimestamp;
  copyOrDelete(meta, oldMeta, 'deletionTimestamp');
  copyOrDelete(meta, oldMeta, 'deletionGracePeriodSeconds');
  copyOrDelete(meta, oldMeta, 'generation');
  delete meta.selfLink;
}

function copyOrDelete(target: ObjectMeta, source: ObjectMeta, field: 'deletionTimestamp' | 'deletionGracePeriodSeconds' | 'generation'): void {
  if (source[field] === undefined) delete target[field];
  else (target as Record<string, unknown>)[field] = source[field];
}

/** Everything but metadata and status: a change here bumps metadata.generation. */
export function specPart(object: KubeObject): Record<string, unknown> {
  const { metadata: _metadata, status: _status, apiVersion: _apiVersion, kind: _kind, ...rest } = object;
  return rest;
}
