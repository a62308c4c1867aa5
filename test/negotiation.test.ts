import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  errorWantsProtobuf,
  parseAccept, negotiateReply, wantsTable, wantsPartialObjectMetadata, parseRequestContentType, decodeRequestBody,
  OBJECT_BODY_FORMATS, PATCH_BODY_FORMATS,
} from '../server/negotiation.ts';
import { StatusError } from '../api/errors.ts';
import { decodeProtobufBody } from '../server/protobuf/decode.ts';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const resource = { target: 'list', tableAllowed: true } as const;

function statusOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  throw new Error('expected a StatusError');
}

describe('Accept', () => {
  test('parses media ranges with parameters, ordered by q then position', () => {
    assert.deepEqual(parseAccept('text/html;q=0.5, application/json;as=Table;v=v1;g=meta.k8s.io, */*;q=0'), [
      { type: 'application', subtype: 'json', params: { as: 'Table', v: 'v1', g: 'meta.k8s.io' }, q: 1 },
      { type: 'text', subtype: 'html', params: {}, q: 0.5 },
    ]);
    assert.deepEqual(parseAccept(undefined), []);
  });

  test('kubectl table Accept gets a meta.k8s.io/v1 Table in JSON', () => {
    assert.deepEqual(negotiateReply(TABLE_ACCEPT, resource), {
      encoding: 'json', shape: 'Table', contentType: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    assert.equal(wantsTable(TABLE_ACCEPT), true);
    assert.equal(wantsTable('application/json;as=Table;v=v1beta1;g=meta.k8s.io'), true);
    assert.equal(wantsTable('application/json'), false);
    assert.equal(wantsTable('application/json;as=Table;v=v2;g=meta.k8s.io'), false);
    // Where Tables are not offered, the JSON fallback entry is used.
    assert.equal(negotiateReply(TABLE_ACCEPT, { target: 'object', tableAllowed: false }).shape, 'object');
  });

  test('PartialObjectMetadata for objects and watches, PartialObjectMetadataList for lists', () => {
    const single = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
    const list = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
    assert.equal(wantsPartialObjectMetadata(single), true);
    assert.equal(wantsPartialObjectMetadata(single, 'watch'), true);
    assert.equal(wantsPartialObjectMetadata(single, 'list'), false);
    assert.equal(wantsPartialObjectMetadata(list, 'list'), true);
    assert.equal(negotiateReply(list, resource).contentType, 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io');
  });

  test('kinds with a protobuf message: protobuf when first acceptable, ;stream=watch for watches, never a protobuf Table', () => {
    const withProtobuf = { ...resource, protobuf: true };
    const protobuf = { encoding: 'protobuf', shape: 'object', contentType: 'application/vnd.kubernetes.protobuf' };
    for (const accept of ['application/vnd.kubernetes.protobuf', 'application/vnd.kubernetes.protobuf,application/json', 'application/json;q=0.9, application/vnd.kubernetes.protobuf']) {
      assert.deepEqual(negotiateReply(accept, withProtobuf), protobuf, accept);
    }
    assert.equal(negotiateReply('application/json,application/vnd.kubernetes.protobuf', withProtobuf).encoding, 'json');
    assert.deepEqual(negotiateReply('application/vnd.kubernetes.protobuf,application/json', { target: 'watch', tableAllowed: true, protobuf: true }),
      { encoding: 'protobuf', shape: 'object', contentType: 'application/vnd.kubernetes.protobuf;stream=watch' });
    assert.deepEqual(negotiateReply('application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io', withProtobuf),
      { encoding: 'protobuf', shape: 'PartialObjectMetadataList', contentType: 'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io' });
    assert.deepEqual(negotiateReply('application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io', withProtobuf),
      { encoding: 'json', shape: 'Table', contentType: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    const err = statusOf(() => negotiateReply('text/html', withProtobuf));
    assert.equal(err.message, 'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf');
    assert.equal(errorWantsProtobuf('application/vnd.kubernetes.protobuf,application/json'), true);
    assert.equal(errorWantsProtobuf('application/json,application/vnd.kubernetes.protobuf'), false);
    assert.equal(errorWantsProtobuf(undefined), false);
  });

  test('JSON for */*, no Accept and protobuf with JSON fallback; YAML when asked; protobuf alone is 406', () => {
    for (const accept of [undefined, '', '*/*', 'application/json, */*', 'application/vnd.kubernetes.protobuf,application/json', 'application/*']) {
      assert.deepEqual(negotiateReply(accept, resource), { encoding: 'json', shape: 'object', contentType: 'application/json' }, String(accept));
    }
    assert.deepEqual(negotiateReply('application/yaml', resource), { encoding: 'yaml', shape: 'object', contentType: 'application/yaml' });
    const err = statusOf(() => negotiateReply('application/vnd.kubernetes.protobuf', resource));
    assert.equal(err.code, 406);
    assert.equal(err.reason, 'NotAcceptable');
    assert.equal(err.message, 'only the following media types are accepted: application/json, application/yaml');
  });
});

describe('Content-Type', () => {
  test('maps media types to body formats, ignoring charset', () => {
    assert.equal(parseRequestContentType('application/json; charset=utf-8', OBJECT_BODY_FORMATS), 'json');
    assert.equal(parseRequestContentType('application/yaml', OBJECT_BODY_FORMATS), 'yaml');
    assert.equal(parseRequestContentType('application/vnd.kubernetes.protobuf', OBJECT_BODY_FORMATS), 'protobuf');
    assert.equal(parseRequestContentType(undefined, OBJECT_BODY_FORMATS), 'json');
    assert.equal(parseRequestContentType('application/strategic-merge-patch+json', PATCH_BODY_FORMATS), 'strategic-merge-patch');
    assert.equal(parseRequestContentType('application/merge-patch+json; charset=utf-8', PATCH_BODY_FORMATS), 'merge-patch');
    assert.equal(parseRequestContentType('application/json-patch+json', PATCH_BODY_FORMATS), 'json-patch');
    assert.equal(parseRequestContentType('Application/Apply-Patch+YAML', PATCH_BODY_FORMATS), 'apply-patch');
  });

  test('anything else is 415 worded like kube-apiserver', () => {
    const err = statusOf(() => parseRequestContentType('text/plain', OBJECT_BODY_FORMATS));
    assert.equal(err.code, 415);
    assert.equal(err.reason, 'UnsupportedMediaType');
    assert.equal(err.message, 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf');
    assert.equal(statusOf(() => parseRequestContentType(undefined, PATCH_BODY_FORMATS)).message,
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml');
  });

  test('decodes bodies: JSON, YAML, apply-patch as JSON or YAML, json-patch arrays, protobuf', () => {
    assert.deepEqual(decodeRequestBody(Buffer.from('{"a":1}'), 'json'), { a: 1 });
    assert.deepEqual(decodeRequestBody(Buffer.from('a: 1\nb: [x]\n'), 'yaml'), { a: 1, b: ['x'] });
    assert.deepEqual(decodeRequestBody(Buffer.from('{"kind":"Pod"}'), 'apply-patch'), { kind: 'Pod' });
    assert.deepEqual(decodeRequestBody(Buffer.from('kind: Pod\n'), 'apply-patch'), { kind: 'Pod' });
    assert.deepEqual(decodeRequestBody(Buffer.from('[{"op":"remove","path":"/a"}]'), 'json-patch'), [{ op: 'remove', path: '/a' }]);
    const fixture = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'protobuf', 'create-namespace.bin'));
    assert.deepEqual(decodeRequestBody(fixture, 'protobuf'), decodeProtobufBody(fixture));
    assert.equal(statusOf(() => decodeRequestBody(Buffer.from('{'), 'json')).code, 400);
    assert.equal(statusOf(() => decodeRequestBody(Buffer.from('[1]'), 'json')).code, 400);
    assert.equal(statusOf(() => decodeRequestBody(Buffer.from('{}'), 'json-patch')).code, 400);
  });
});
