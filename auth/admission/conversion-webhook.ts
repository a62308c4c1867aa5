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
  const described = `${desired}, Kind=${crd.spec.names.kind}`;
  const fail = (message: string): never => {
    throw new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
  };
  return async (objects) => {
    const pending = objects.map((o, i) => ({ o, i })).filter(({ o }) => o.apiVersion !== desired);
    if (pending.length === 0) return objects;
    const uid = randomUUID();
    let answer: unknown;
    try {
      answer = await callWebhook(`conversion/${crd.metadata.uid}`, clientConfig, CONVERSION_TIMEOUT_SECONDS, {
        kind: 'ConversionReview', apiVersion: 'apiextensions.k8s.io/v1',
        request: { uid, desiredAPIVersion: desired, objects: pending.map(({ o }) => o) },
      });
    } catch (error) {
      if (error instanceof WebhookCallError) fail(`conversion webhook for ${described} failed: ${error.message}`);
      throw error;
    }
    const response = isPlainObject(answer) && isPlainObject(answer.response) ? answer.response : undefined;
    if (!response) return fail(`conversion webhook for ${described} failed: missing response`);
    if (response.uid !== uid) fail(`conversion webhook for ${described} failed: expected response.uid="${uid}", got "${String(response.uid)}"`);
    const result = isPlainObject(response.result) ? response.result : {};
    if (result.status !== 'Success') fail(`conversion webhook for ${described} returned failure: ${String(result.message ?? 'unknown')}`);
    const converted = Array.isArray(response.convertedObjects) ? response.convertedObjects as KubeObject[] : [];
    if (converted.length !== pending.length) {
      fail(`conversion webhook for ${described} returned ${converted.length} objects, expected ${pending.length}`);
    }
    const out = [...objects];
    converted.forEach((object, k) => {
      if (!isPlainObject(object) || object.apiVersion !== desired) {
        fail(`conversion webhook for ${described} returned invalid converted object at index ${k}: invalid apiVersion "${String(isPlainObject(object) ? object.apiVersion : '')}", expected "${desired}"`);
      }
      const original = pending[k].o;
      // Only labels and annotations of metadata may change; everything else is kept from storage.
      out[pending[k].i] = { ...object, metadata: { ...original.metadata, labels: object.metadata?.labels, annotations: object.metadata?.annotations } };
    });
    return out;
  };
}
