// The real kubectl over HTTPS against RBAC: an admin creates a role and a binding; alice, whose kubeconfig
// comes from `kubefacade kubeconfig`, is refused before the binding and allowed after; `auth can-i`,
// `auth whoami` and `--as` behave as against kube-apiserver.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { Kubectl, requireKubectl } from './helpers/kubectl.ts';
import { REPO_ROOT } from './helpers/server-process.ts';

const run = promisify(execFile);

async function kubefacade(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'server', 'cli.ts'), ...args], { cwd: REPO_ROOT });
  return stdout;
}

describe('kubectl with RBAC', () => {
  let dir: string;
  let server: RunningApiServer;
  let admin: Kubectl;
  let alice: Kubectl;
  let kubeconfig: string;

  before(async () => {
    requireKubectl();
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-rbac-kubectl-'));
    server = await startApiServer({ dataDir: join(dir, 'data'), bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    admin = await Kubectl.create(server.adminKubeconfigPath);
    kubeconfig = await kubefacade(['kubeconfig', '--user', 'alice', '--group', 'dev', '--ttl', '2h', '--data-dir', join(dir, 'data')]);
    await writeFile(join(dir, 'alice.kubeconfig'), kubeconfig, { mode: 0o600 });
    alice = await Kubectl.create(join(dir, 'alice.kubeconfig'));
  });

  after(async () => {
    await admin?.dispose();
    await alice?.dispose();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('`kubefacade kubeconfig` writes CA data, the server from the admin kubeconfig, and a JWT for the user', async () => {
    const config = kubeconfig;
    assert.match(config, new RegExp(`certificate-authority-data: ${Buffer.from(server.caCertPem).toString('base64')}\\n`));
    assert.match(config, new RegExp(`server: ${server.url.replace(/\./g, '\\.')}\\n`));
    const token = /token: (\S+)/.exec(config)![1];
    const claims = jwt.decode(token) as jwt.JwtPayload;
    assert.deepEqual([claims.sub, claims.groups, claims.exp! - claims.iat!], ['alice', ['dev'], 7200]);
    const printed = (await kubefacade(['token', 'create', '--user', 'robot', '--group', 'a,b', '--data-dir', join(dir, 'data')])).trim();
    const robot = jwt.decode(printed) as jwt.JwtPayload;
    assert.deepEqual([robot.sub, robot.groups, robot.exp! - robot.iat!], ['robot', ['a', 'b'], 24 * 3600]);
  });

  test('alice is forbidden before the binding and allowed after', async () => {
    assert.equal(await admin.ok(['create', 'role', 'pod-worker', '--verb=get,list,watch,create', '--resource=pods']), 'role.rbac.authorization.k8s.io/pod-worker created\n');

    const refused = await alice.run(['get', 'pods']);
    assert.deepEqual([refused.code, refused.stdout, refused.stderr], [1, '',
      'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"\n']);
    const cannot = await alice.run(['auth', 'can-i', 'create', 'pods']);
    assert.deepEqual([cannot.code, cannot.stdout], [1, 'no\n']);

    assert.equal(await admin.ok(['create', 'rolebinding', 'alice-pods', '--role=pod-worker', '--user=alice']), 'rolebinding.rbac.authorization.k8s.io/alice-pods created\n');

    const listed = await alice.run(['get', 'pods']);
    assert.deepEqual([listed.code, listed.stdout, listed.stderr], [0, '', 'No resources found in default namespace.\n']);
    const can = await alice.run(['auth', 'can-i', 'create', 'pods']);
    assert.deepEqual([can.code, can.stdout], [0, 'yes\n']);
    assert.deepEqual((await alice.run(['auth', 'can-i', 'delete', 'pods'])).stdout, 'no\n');
    assert.deepEqual((await alice.run(['auth', 'can-i', 'list', 'pods', '-n', 'kube-system'])).stdout, 'no\n');
    const nodes = await alice.run(['get', 'nodes']);
    assert.equal(nodes.stderr, 'Error from server (Forbidden): nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope\n');
  });

  test('auth whoami and auth can-i --list', async () => {
    assert.equal(await alice.ok(['auth', 'whoami']), 'ATTRIBUTE   VALUE\nUsername    alice\nGroups      [dev system:authenticated]\n');
    const list = await alice.ok(['auth', 'can-i', '--list']);
    const lines = list.split('\n');
    assert.match(lines[0], /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/);
    assert.ok(lines.some((line) => /^pods\s+\[\]\s+\[\]\s+\[get list watch create\]$/.test(line)), list);
    assert.ok(lines.some((line) => /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/.test(line)), list);
    assert.ok(lines.some((line) => /^\s+\[\/version\]\s+\[\]\s+\[get\]$/.test(line)), list);
  });

  test('--as works for the admin and is refused for alice', async () => {
    assert.equal(await admin.ok(['auth', 'whoami', '--as', 'alice']), 'ATTRIBUTE   VALUE\nUsername    alice\nGroups      [system:authenticated]\n');
    const asAlice = await admin.run(['get', 'pods', '--as', 'alice']);
    assert.deepEqual([asAlice.code, asAlice.stderr], [0, 'No resources found in default namespace.\n']);
    assert.equal((await admin.run(['auth', 'can-i', 'create', 'pods', '--as', 'alice'])).stdout, 'yes\n');
    assert.equal((await admin.run(['auth', 'can-i', 'get', 'nodes', '--as', 'alice'])).stdout, 'no\n');
    const refused = await alice.run(['get', 'pods', '--as', 'bob']);
    assert.deepEqual([refused.code, refused.stderr], [1,
      'Error from server (Forbidden): users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope\n']);
  });

  test('roles and bindings print as kubectl prints them from kube-apiserver', async () => {
    const roles = await admin.ok(['get', 'roles']);
    assert.match(roles, /^NAME\s+CREATED AT\npod-worker\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
    const bindings = await admin.ok(['get', 'rolebindings', '-o', 'wide']);
    assert.match(bindings, /^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS\nalice-pods\s+Role\/pod-worker\s+\d+s\s+alice\s*\n$/);
    const cluster = await admin.ok(['get', 'clusterrolebinding', 'cluster-admin']);
    assert.match(cluster, /^NAME\s+ROLE\s+AGE\ncluster-admin\s+ClusterRole\/cluster-admin\s+\d+s\n$/);
    const described = await admin.ok(['describe', 'clusterrole', 'view']);
    assert.match(described, /pods\s+\[\]\s+\[\]\s+\[get list watch\]/);
  });
});
