// CRD conversion webhooks (conversion.strategy: Webhook): objects stored through one version and
// read through another are sent in one apiextensions.k8s.io/v1 ConversionReview to the CRD's
// webhook, over the same keep-alive HTTPS client as admission webhooks, and its answer is checked
// as the apiextensions-apiserver checks it (uid, count, apiVersion of every converted object).

import { randomUUID } from 'node:crypto';
import { StatusError } from '../../api/errors.ts';
import { isPlainObject, type KubeObject } from '../../api/object.ts';
import type { CustomResourceDefinition } from '../../api/customresources/types.ts';
import { callWebhook, WebhookCallError } from './webhook-client.ts';

const CONVERSION_TIMEOUT_SECONDS = 30;

export function conversionWebhookConverter(crd: CustomResourceDefinition, version: string): ((objects: KubeObject[]) => Promise<KubeObject[]>) | undefined {
  const conversion = crd.spec.conversion;
  const clientConfig = conversion?.webhook?.clientConfig;
  if (conversion?.strategy !== 'Webhook' || !clientConfig) return undefined;
  const desired = `${crd.spec.group}/${version}`;
  const fail = (message: string): never => {
    throw new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
  };
  return async (objects) => {
    const pending = objects.map((o, i) => ({ o, i })).filter(({ o }) => o.apiVersion !== desired);
    if (pending.length === 0) return objects;
    // Upstream names the input's GroupVersionKind (the stored object's) in every message.
    const input = `${String(pending[0].o.apiVersion)}, Kind=${String(pending[0].o.kind ?? crd.spec.names.kind)}`;
    const failed = (reason: string): never => fail(`conversion webhook for ${input} failed: ${reason}`);
    const uid = randomUUID();
    let answer: unknown;
    try {
      answer = await callWebhook(`conversion/${crd.metadata.uid}`, clientConfig, CONVERSION_TIMEOUT_SECONDS, {
        kind: 'ConversionReview', apiVersion: 'apiextensions.k8s.io/v1',
        request: { uid, desiredAPIVersion: desired, objects: pending.map(({ o }) => o) },
      });
    } catch (error) {
      if (error instanceof WebhookCallError) failed(error.message);
      throw error;
    }
    const response = isPlainObject(answer) && isPlainObject(answer.response) ? answer.response : undefined;
    if (!response) return failed('no response provided');
    if (response.uid !== uid) failed(`expected response.uid="${uid}", got "${String(response.uid ?? '')}"`);
    const result = isPlainObject(response.result) ? response.result : {};
    if (result.status !== 'Success') {
      failed(typeof result.message === 'string' && result.message !== '' ? result.message : `response.result.status was '${String(result.status ?? '')}', not 'Success'`);
    }
    const converted = Array.isArray(response.convertedObjects) ? response.convertedObjects as KubeObject[] : [];
    if (converted.length !== pending.length) fail(`conversion webhook for ${input} returned ${converted.length} objects, expected ${pending.length}`);
    const out = [...objects];
    converted.forEach((object, k) => {
      const original = pending[k].o;
      // One object: "invalid object at index 0"; several (a list): upstream counts from 1 here.
      const invalid = (reason: string): never => fail(pending.length === 1
        ? `conversion webhook for ${input} returned invalid object${reason.startsWith('must') ? '' : ' at index 0'}: ${reason}`
        : `conversion webhook for ${input} returned invalid converted object at index ${k + 1}: ${reason}`);
      if (!isPlainObject(object)) return invalid('invalid type, expected=Unstructured');
      if (object.apiVersion !== desired) invalid(`invalid groupVersion (expected ${desired}, received ${String(object.apiVersion ?? '')})`);
      if (object.kind !== original.kind) invalid(`invalid kind (expected ${String(original.kind)}, received ${String(object.kind ?? '')})`);
      const meta = isPlainObject(object.metadata) ? object.metadata : {};
      for (const [field, label] of [['name', 'name'], ['namespace', 'namespace'], ['uid', 'UID']] as const) {
        const before = String(original.metadata[field] ?? '');
        const after = String(meta[field] ?? '');
        if (before !== after) invalid(`must have the same ${label}: ${before} != ${after}`);
      }
      // Only labels and annotations of metadata may change; everything else is kept from storage.
      out[pending[k].i] = { ...object, metadata: { ...original.metadata, labels: object.metadata?.labels, annotations: object.metadata?.annotations } };
    });
    return out;
  };
}
