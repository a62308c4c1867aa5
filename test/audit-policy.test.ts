// Audit as kube-apiserver: the audit.k8s.io/v1 Policy (levels, omitStages, rules by users,
// userGroups, verbs, resources, namespaces, nonResourceURLs; first match wins), events per stage
// (RequestReceived, ResponseStarted for watches and logs, ResponseComplete), the full objectRef of
// a create, request/response objects by level, a bad policy file refusing the start, and rotation.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { NextFunction, Request, Response } from 'express';
import { AuditLog, type AuditRecord } from '../auth/audit-log.ts';
import { evaluateAuditPolicy, parseAuditPolicy, type AuditAttributes } from '../auth/audit-policy.ts';
import { startApiServer, type RunningApiServer } from '../server/start.ts';

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: []
rules:
- level: None
  nonResourceURLs: ["/healthz*", "/version"]
- level: None
  users: ["system:kube-proxy"]
  verbs: ["watch"]
- level: RequestResponse
  resources:
  - group: ""
    resources: ["pods", "pods/log"]
  namespaces: ["audited"]
- level: Request
  userGroups: ["auditors"]
- level: Metadata
  omitStages: ["RequestReceived"]
`;

const alice = { username: 'alice', groups: ['auditors', 'system:authenticated'] };

describe('audit policy evaluation', () => {
  const policy = parseAuditPolicy(POLICY, 'policy.yaml');
  const attrs = (extra: Partial<AuditAttributes>): AuditAttributes => ({ verb: 'get', resourceRequest: true, path: '/api/v1/pods', ...extra });

  test('the first matching rule decides the level and the stages to omit', () => {
    assert.equal(evaluateAuditPolicy(policy, attrs({ resourceRequest: false, path: '/healthz/etcd' })).level, 'None');
    assert.equal(evaluateAuditPolicy(policy, attrs({ resourceRequest: false, path: '/version' })).level, 'None');
    assert.equal(evaluateAuditPolicy(policy, attrs({ user: { username: 'system:kube-proxy', groups: [] }, verb: 'watch' })).level, 'None');
    assert.equal(evaluateAuditPolicy(policy, attrs({ user: { username: 'system:kube-proxy', groups: [] }, verb: 'list' })).level, 'Metadata');
    assert.equal(evaluateAuditPolicy(policy, attrs({ apiGroup: '', resource: 'pods', subresource: 'log', namespace: 'audited' })).level, 'RequestResponse');
    assert.equal(evaluateAuditPolicy(policy, attrs({ apiGroup: '', resource: 'pods', subresource: 'status', namespace: 'audited' })).level, 'Metadata');
    assert.equal(evaluateAuditPolicy(policy, attrs({ apiGroup: '', resource: 'pods', namespace: 'other', user: alice })).level, 'Request');
    const fallback = evaluateAuditPolicy(policy, attrs({ apiGroup: 'apps', resource: 'deployments' }));
    assert.equal(fallback.level, 'Metadata');
    assert.deepEqual([...fallback.omitStages], ['RequestReceived']);
  });

  test('resource patterns: */subresource, resource/*, resourceNames; no rule is level None', () => {
    const p = parseAuditPolicy(`apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: Request
  resources: [{group: "", resources: ["*/status"]}]
- level: RequestResponse
  resources: [{group: "", resources: ["nodes/*"]}]
- level: Metadata
  resources: [{group: rbac.authorization.k8s.io, resources: [roles], resourceNames: [admin]}]
`, 'p.yaml');
    assert.equal(evaluateAuditPolicy(p, attrs({ apiGroup: '', resource: 'pods', subresource: 'status' })).level, 'Request');
    assert.equal(evaluateAuditPolicy(p, attrs({ apiGroup: '', resource: 'nodes', subresource: 'proxy' })).level, 'RequestResponse');
    assert.equal(evaluateAuditPolicy(p, attrs({ apiGroup: 'rbac.authorization.k8s.io', resource: 'roles', name: 'admin' })).level, 'Metadata');
    assert.equal(evaluateAuditPolicy(p, attrs({ apiGroup: 'rbac.authorization.k8s.io', resource: 'roles', name: 'view' })).level, 'None');
  });

  test('an invalid policy is refused with every problem named', () => {
    assert.throws(() => parseAuditPolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Everything\n- level: None\n  nonResourceURLs: ["/x"]\n  namespaces: [a]\n  omitStages: [Later]\n', 'bad.yaml'), (err: Error) => {
      assert.match(err.message, /^loading audit policy file: bad\.yaml: invalid audit policy: /);
      assert.match(err.message, /rules\[0\]\.level: Unsupported value: "Everything"/);
      assert.match(err.message, /rules cannot apply to both regular resources and non-resource URLs/);
      assert.match(err.message, /rules\[1\]\.omitStages\[0\]: Invalid value: "Later"/);
      return true;
    });
    assert.throws(() => parseAuditPolicy('kind: [', 'broken.yaml'), /loading audit policy file: broken\.yaml: failed decoding/);
    assert.throws(() => parseAuditPolicy('apiVersion: v1\nkind: ConfigMap\n', 'cm.yaml'), /expected apiVersion audit\.k8s\.io\/v1, kind Policy/);
  });
});

describe('audit events from a running server', () => {
  let dir: string;
  let server: RunningApiServer;
  const call = (method: 'get' | 'post', path: string) => request(server.url)[method](path).ca(server.caCertPem).set('Authorization', `Bearer ${server.adminToken}`);
  const events = async () => (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-audit-'));
    await writeFile(join(dir, 'policy.yaml'), POLICY);
    server = await startApiServer({ dataDir: join(dir, 'data'), bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'], auditLogPath: join(dir, 'audit.log'), auditPolicyFile: join(dir, 'policy.yaml') });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('stages, levels, objectRef of a created object, request and response objects', async () => {
    await call('post', '/api/v1/namespaces').set('Content-Type', 'application/json').send({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'audited' } }).expect(201);
    const created = await call('post', '/api/v1/namespaces/audited/pods').set('Content-Type', 'application/json')
      .send({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }).expect(201);
    const name = created.body.metadata.name as string;
    await call('get', '/healthz').expect(200);
    await call('get', '/api/v1/namespaces/audited/pods?watch=true&timeoutSeconds=1').expect(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const all = await events();
    assert.ok(!all.some((e) => e.requestURI.startsWith('/healthz')), 'level None writes nothing');

    const nsEvents = all.filter((e) => e.requestURI === '/api/v1/namespaces');
    assert.deepEqual(nsEvents.map((e) => `${e.level}/${e.stage}`), ['Metadata/ResponseComplete'], 'RequestReceived omitted by the rule');
    assert.equal(nsEvents[0].objectRef.name, 'audited', 'a create names the object it created');

    const podEvents = all.filter((e) => e.requestURI === '/api/v1/namespaces/audited/pods');
    assert.deepEqual(podEvents.map((e) => `${e.level}/${e.stage}`), ['RequestResponse/RequestReceived', 'RequestResponse/ResponseComplete']);
    const [received, complete] = podEvents;
    assert.equal(received.auditID, complete.auditID);
    assert.equal(received.responseStatus, undefined);
    assert.equal(received.objectRef.name, undefined);
    assert.deepEqual(complete.objectRef, { resource: 'pods', namespace: 'audited', name, apiVersion: 'v1' });
    assert.equal(complete.requestObject.metadata.generateName, 'web-');
    assert.equal(complete.responseObject.metadata.name, name);
    assert.equal(complete.responseStatus.code, 201);
    assert.equal(complete.annotations['authorization.k8s.io/decision'], 'allow');

    const watch = all.filter((e) => e.requestURI.startsWith('/api/v1/namespaces/audited/pods?watch=true'));
    assert.deepEqual(watch.map((e) => e.stage), ['RequestReceived', 'ResponseStarted', 'ResponseComplete']);
    assert.equal(watch[1].responseStatus.code, 200);
    assert.equal(watch[0].verb, 'watch');
  });

  test('a policy file that does not load stops the start with a clear message', async () => {
    await writeFile(join(dir, 'bad.yaml'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n');
    await assert.rejects(
      startApiServer({ dataDir: join(dir, 'data2'), bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'], auditLogPath: join(dir, 'audit2.log'), auditPolicyFile: join(dir, 'bad.yaml') }),
      /loading audit policy file: .*bad\.yaml: invalid audit policy: rules\[0\]\.level: Unsupported value: "Loud"/,
    );
    await assert.rejects(
      startApiServer({ dataDir: join(dir, 'data3'), bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'], auditLogPath: join(dir, 'audit3.log'), auditPolicyFile: join(dir, 'missing.yaml') }),
      /loading audit policy file: .*missing\.yaml: failed to read/,
    );
  });
});

describe('audit log rotation', () => {
  test('--audit-log-maxsize rotates, --audit-log-maxbackup keeps the newest backups', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubefacade-audit-rotation-'));
    try {
      const file = join(dir, 'audit.log');
      const log = await AuditLog.open(file, { maxSizeMB: 1, maxBackups: 2, maxAgeDays: 0 });
      const record: AuditRecord = {
        level: 'Metadata', stage: 'ResponseComplete', auditID: 'x', requestURI: `/api/v1/pods?${'a'.repeat(900)}`, verb: 'list',
        sourceIPs: ['127.0.0.1'], responseStatus: { code: 200 }, requestReceived: Date.now(), stageCompleted: Date.now(),
      };
      for (let i = 0; i < 4000; i++) {
        log.write(record);
        // Backups are named to the millisecond: let rotations land on distinct names.
        if (i % 1000 === 999) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await log.close();
      const files = (await readdir(dir)).sort();
      const backups = files.filter((f) => /^audit-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.log$/.test(f));
      assert.equal(backups.length, 2, files.join(' '));
      assert.ok(files.includes('audit.log'));
      for (const f of files) assert.ok((await stat(join(dir, f))).size <= 1024 * 1024, `${f} within 1 MB`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the Panic stage', () => {
  test('a handler failing with an unexpected error ends its audit with stage Panic, not ResponseComplete', async () => {
    const { default: express } = await import('express');
    const { startAudit, noteErrorStatus } = await import('../server/audit-filter.ts');
    const { internalError, StatusError } = await import('../api/errors.ts');
    const { METADATA_FOR_EVERYTHING } = await import('../auth/audit-policy.ts');
    const dir = await mkdtemp(join(tmpdir(), 'kubefacade-audit-panic-'));
    const log = await AuditLog.open(join(dir, 'audit.log'));
    const app = express();
    app.use((req, res, next) => {
      req.requestInfo = { isResourceRequest: true, path: req.path, verb: 'get', apiGroup: '', apiVersion: 'v1', namespace: 'default', resource: 'pods', subresource: '', name: req.path.slice(1) };
      req.kubeUser = { username: 'alice', groups: [] };
      startAudit(req, res, log, METADATA_FOR_EVERYTHING, `id-${req.path.slice(1)}`, Date.now());
      next();
    });
    app.get('/boom', () => { throw new TypeError('cannot read properties of undefined'); });
    app.get('/missing', () => { throw new StatusError(404, 'NotFound', 'pods "missing" not found'); });
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      const status = err instanceof StatusError ? err : internalError(err);
      noteErrorStatus(res, status.toStatus(), !(err instanceof StatusError));
      res.status(status.code).json(status.toStatus());
    });
    const server = app.listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as { port: number };
      await fetch(`http://127.0.0.1:${port}/boom`);
      await fetch(`http://127.0.0.1:${port}/missing`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await log.close();
      const lines = (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      const boom = lines.filter((e) => e.auditID === 'id-boom');
      assert.deepEqual(boom.map((e) => e.stage), ['RequestReceived', 'Panic']);
      assert.deepEqual(boom[1].responseStatus, { metadata: {}, status: 'Failure', reason: 'InternalError', code: 500, message: "APIServer panic'd: Internal error occurred: cannot read properties of undefined" });
      const missing = lines.filter((e) => e.auditID === 'id-missing');
      assert.deepEqual(missing.map((e) => e.stage), ['RequestReceived', 'ResponseComplete']);
      assert.equal(missing[1].responseStatus.code, 404);
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
