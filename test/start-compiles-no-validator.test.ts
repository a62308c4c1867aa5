// A start, first or warm, writes only the server's own objects (namespaces, service accounts, bootstrap RBAC,
// system priority classes, flow-control configuration), which skip the OpenAPI decoding check as
// kube-apiserver's typed in-process writes do; and a warm start writes none of them again. Compiling one
// validator costs more CPU than the rest of a warm start, so this test keeps the start free of it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { startApiServer } from '../lib/index.ts';
import { compiledValidatorKinds } from '../api/openapi/validator.ts';

test('neither a first nor a warm start of the API server compiles an OpenAPI validator', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-start-'));
  try {
    const first = await startApiServer({ storage: { leveldb: dataDir } });
    await first.stop();
    assert.deepEqual(compiledValidatorKinds(), [], 'first start');
    const warm = await startApiServer({ storage: { leveldb: dataDir } });
    try {
      assert.deepEqual(compiledValidatorKinds(), [], 'warm start');
      // The check itself works: the first write of a pod through the API compiles the Pod validator.
      await warm.kubeconfig.makeApiClient(CoreV1Api).createNamespacedPod({
        namespace: 'default', dryRun: 'All',
        body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      });
      assert.deepEqual(compiledValidatorKinds(), ['/v1/Pod']);
    } finally {
      await warm.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
