// Authorization as kube-apiserver decides it (system:masters, Node, RBAC), evaluated over the bootstrap
// policy plus custom roles and bindings. Each row names the upstream rule that makes it so.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/object.ts';
import { nonResourceAttributes, PrivilegedGroupAuthorizer, resourceAttributes, UnionAuthorizer, UnionRuleResolver, type AuthorizationAttributes } from '../auth/authorizer.ts';
import { forbiddenError } from '../auth/forbidden.ts';
import { NodeAuthorizer } from '../auth/node/node-authorizer.ts';
import { NodeRestrictionAdmission } from '../auth/node/node-restriction.ts';
import { withAggregatedRules } from '../auth/rbac/aggregation.ts';
import { bootstrapClusterRoleBindings } from '../auth/rbac/bootstrap-bindings.ts';
import { bootstrapClusterRoles, NODE_RULES } from '../auth/rbac/bootstrap-roles.ts';
import { compactRules, compactString, covers } from '../auth/rbac/covers.ts';
import { RbacEscalationAdmission } from '../auth/rbac/escalation-admission.ts';
import { StaticPolicySource } from '../auth/rbac/policy-source.ts';
import { RbacAuthorizer } from '../auth/rbac/rbac-authorizer.ts';
import type { UserInfo } from '../auth/user.ts';
import { StatusError } from '../api/errors.ts';
import type { AdmissionAttributes } from '../api/admission.ts';

const RBAC = 'rbac.authorization.k8s.io';
const meta = (name: string, namespace?: string, labels?: Record<string, string>) => ({ name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}) });
const role = (namespace: string, name: string, rules: object[]): KubeObject => ({ apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: meta(name, namespace), rules });
const clusterRole = (name: string, rules: object[] | undefined, extra: Partial<KubeObject> = {}, labels?: Record<string, string>): KubeObject =>
  ({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: meta(name, undefined, labels), ...(rules ? { rules } : {}), ...extra });
const subject = (kind: string, name: string, namespace?: string) =>
  (kind === 'ServiceAccount' ? { kind, name, ...(namespace ? { namespace } : {}) } : { kind, apiGroup: RBAC, name });
const roleBinding = (namespace: string, name: string, roleKind: string, roleName: string, subjects: object[]): KubeObject =>
  ({ apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: meta(name, namespace), roleRef: { apiGroup: RBAC, kind: roleKind, name: roleName }, subjects });
const clusterRoleBinding = (name: string, roleName: string, subjects: object[]): KubeObject =>
  ({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: meta(name), roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName }, subjects });

const customClusterRoles = [
  clusterRole('metrics-reader', [{ verbs: ['get'], nonResourceURLs: ['/metrics', '/logs/*'] }]),
  // Aggregated into the default view role (and so into edit and admin) by its label.
  clusterRole('widget-viewer', [{ verbs: ['get', 'list'], apiGroups: ['example.com'], resources: ['widgets'] }], {}, { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' }),
  // A custom aggregated role and its one source.
  clusterRole('monitoring', undefined, { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'example.com/aggregate-to-monitoring': 'true' } }] } }),
  clusterRole('monitoring-pods', [{ verbs: ['list', 'watch'], apiGroups: [''], resources: ['pods'] }], {}, { 'example.com/aggregate-to-monitoring': 'true' }),
];
const roles = [
  role('team-a', 'pod-reader', [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'pods/log'] }]),
  role('team-a', 'web-only', [{ verbs: ['get', 'update'], apiGroups: [''], resources: ['pods'], resourceNames: ['web'] }]),
  role('team-a', 'scaler', [{ verbs: ['get', 'update', 'patch'], apiGroups: ['*'], resources: ['*/scale'] }]),
];
const roleBindings = [
  roleBinding('team-a', 'alice-reader', 'Role', 'pod-reader', [subject('User', 'alice')]),
  roleBinding('team-a', 'alice-web', 'Role', 'web-only', [subject('User', 'alice')]),
  roleBinding('team-a', 'alice-broken', 'Role', 'does-not-exist', [subject('User', 'alice')]),
  roleBinding('team-a', 'bob-admin', 'ClusterRole', 'admin', [subject('User', 'bob')]),
  // A service account subject without a namespace means the binding's own namespace.
  roleBinding('team-a', 'builder', 'Role', 'scaler', [subject('ServiceAccount', 'builder')]),
];
const clusterRoleBindings = [
  clusterRoleBinding('dave-view', 'view', [subject('User', 'dave')]),
  clusterRoleBinding('dev-metrics', 'metrics-reader', [subject('Group', 'dev')]),
  clusterRoleBinding('mon', 'monitoring', [subject('User', 'mon')]),
];

const policy = new StaticPolicySource({
  clusterRoles: withAggregatedRules([...bootstrapClusterRoles(), ...customClusterRoles]),
  clusterRoleBindings: [...bootstrapClusterRoleBindings(), ...clusterRoleBindings],
  roles, roleBindings,
});
const podsByNode = new Map([['default/web-on-1', 'node01'], ['default/web-on-2', 'node02']]);
const rbac = new RbacAuthorizer(policy);
const node = new NodeAuthorizer({ nodeOf: (ns, name) => podsByNode.get(`${ns}/${name}`) }, NODE_RULES);
const authorizer = new UnionAuthorizer([new PrivilegedGroupAuthorizer(['system:masters']), node, rbac]);

const users: Record<string, UserInfo> = {
  admin: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
  alice: { username: 'alice', groups: ['dev', 'system:authenticated'] },
  bob: { username: 'bob', groups: ['system:authenticated'] },
  dave: { username: 'dave', groups: ['system:authenticated'] },
  mon: { username: 'mon', groups: ['system:authenticated'] },
  anonymous: { username: 'system:anonymous', groups: ['system:unauthenticated'] },
  builder: { username: 'system:serviceaccount:team-a:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'] },
  otherBuilder: { username: 'system:serviceaccount:team-b:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:team-b', 'system:authenticated'] },
  scheduler: { username: 'system:kube-scheduler', groups: ['system:authenticated'] },
  kcm: { username: 'system:kube-controller-manager', groups: ['system:authenticated'] },
  watcher: { username: 'kubefacade:kubelet-watcher', groups: ['system:authenticated'] },
  node01: { username: 'system:node:node01', groups: ['system:nodes', 'system:authenticated'] },
  fakeNode: { username: 'system:node:node01', groups: ['system:authenticated'] },
};

type Row = [user: string, verb: string, target: string, allowed: boolean, why: string];

/** `group/resource[/sub] ns/name`, e.g. `/pods team-a/web`, `apps/deployments/scale team-a/x`, or a path `/metrics`. */
function attributes(user: UserInfo, verb: string, target: string, fieldSelector?: string): AuthorizationAttributes {
  if (!target.includes(' ')) return nonResourceAttributes(user, verb, target);
  const [what, where] = target.split(' ');
  const [group, resource, subresource = ''] = what.split('/');
  const [rawNamespace, name = ''] = where.split('/');
  const namespace = rawNamespace === '-' ? '' : rawNamespace;
  return resourceAttributes(user, {
    verb, apiGroup: group, resource, subresource, namespace, name,
    ...(fieldSelector ? { fieldSelector: [{ field: fieldSelector.split('=')[0], operator: '=' as const, value: fieldSelector.split('=')[1] }] } : {}),
  });
}

const rows: Row[] = [
  ['admin', 'delete', '/nodes -/node01', true, 'system:masters is the privileged group'],
  ['admin', 'get', '/anything/at/all', true, 'system:masters is the privileged group'],
  ['alice', 'list', '/pods team-a', true, 'Role pod-reader: get/list/watch pods'],
  ['alice', 'list', '/pods default', false, 'her roles are bound in team-a only'],
  ['alice', 'list', '/pods -', false, 'a RoleBinding never grants cluster-wide lists'],
  ['alice', 'get', '/pods/log team-a/web', true, 'pod-reader lists pods/log explicitly'],
  ['alice', 'create', '/pods/exec team-a/web', false, 'pods does not cover pods/exec'],
  ['alice', 'update', '/pods team-a/web', true, 'web-only: update with resourceNames [web]'],
  ['alice', 'update', '/pods team-a/db', false, 'resourceNames [web] does not match db'],
  ['alice', 'update', '/pods team-a', false, 'resourceNames rules need a name'],
  ['alice', 'get', '/metrics', true, 'metrics-reader via group dev: /metrics'],
  ['alice', 'get', '/logs/kube-apiserver.log', true, 'metrics-reader: /logs/* matches by prefix'],
  ['alice', 'get', '/logsx', false, '/logs/* is the prefix /logs/, not /logs'],
  ['alice', 'post', '/metrics', false, 'nonResourceURLs rules match verbs too'],
  ['alice', 'get', '/apis/apps/v1', true, 'system:discovery (system:authenticated): /apis/*'],
  ['alice', 'create', 'authorization.k8s.io/selfsubjectaccessreviews -', true, 'system:basic-user (system:authenticated)'],
  ['alice', 'create', 'authentication.k8s.io/selfsubjectreviews -', true, 'system:basic-user (system:authenticated)'],
  ['alice', 'create', 'authentication.k8s.io/tokenreviews -', false, 'only auth-delegator style roles grant tokenreviews'],
  ['anonymous', 'get', '/version', true, 'system:public-info-viewer includes system:unauthenticated'],
  ['anonymous', 'get', '/readyz', true, 'system:public-info-viewer'],
  ['anonymous', 'get', '/healthz/ping', false, 'public-info-viewer lists /healthz exactly, no wildcard'],
  ['anonymous', 'get', '/api', false, 'system:discovery is bound to system:authenticated only'],
  ['anonymous', 'list', '/pods default', false, 'nothing else is granted to system:unauthenticated'],
  ['bob', 'create', 'rbac.authorization.k8s.io/rolebindings team-a', true, 'admin aggregates system:aggregate-to-admin'],
  ['bob', 'create', 'rbac.authorization.k8s.io/roles team-b', false, 'admin is bound in team-a only'],
  ['bob', 'delete', '/pods team-a/web', true, 'admin aggregates edit (system:aggregate-to-edit: write pods)'],
  ['bob', 'get', '/secrets team-a/s', true, 'edit reads secrets'],
  ['bob', 'update', '/pods/status team-a/web', false, 'no default namespace role writes pods/status'],
  ['bob', 'get', '/pods/status team-a/web', true, 'view reads pods/status'],
  ['bob', 'create', 'authorization.k8s.io/localsubjectaccessreviews team-a', true, 'system:aggregate-to-admin'],
  ['bob', 'impersonate', '/serviceaccounts team-a/builder', true, 'edit may impersonate service accounts of its namespace'],
  ['bob', 'impersonate', '/users -/alice', false, 'impersonating users is not in any default namespace role'],
  ['bob', 'list', '/nodes -', false, 'a RoleBinding cannot grant cluster-scoped resources'],
  ['dave', 'list', '/pods kube-system', true, 'ClusterRoleBinding to view: every namespace'],
  ['dave', 'list', '/pods -', true, 'ClusterRoleBinding to view: all namespaces at once'],
  ['dave', 'get', '/secrets default/s', false, 'view leaves out secrets'],
  ['dave', 'get', '/namespaces default/default', true, 'view reads namespaces'],
  ['dave', 'list', 'example.com/widgets default', true, 'widget-viewer is aggregated into view by its label'],
  ['dave', 'create', 'example.com/widgets default', false, 'widget-viewer grants get and list only'],
  ['bob', 'list', 'example.com/widgets team-a', true, 'view -> edit -> admin aggregation chain'],
  ['mon', 'watch', '/pods -', true, 'custom aggregated role gets monitoring-pods rules'],
  ['mon', 'get', '/pods default/web', false, 'monitoring-pods grants list and watch only'],
  ['builder', 'update', 'apps/deployments/scale team-a/web', true, 'scaler: */scale for any group'],
  ['builder', 'patch', '/replicationcontrollers/scale team-a/rc', true, 'scaler: */scale matches any resource'],
  ['builder', 'update', 'apps/deployments team-a/web', false, '*/scale does not cover the resource itself'],
  ['builder', 'update', 'apps/deployments/status team-a/web', false, '*/scale does not cover other subresources'],
  ['otherBuilder', 'update', 'apps/deployments/scale team-a/web', false, 'the subject defaults to the binding namespace team-a'],
  ['scheduler', 'create', '/pods/binding default/web', true, 'system:kube-scheduler: pods/binding'],
  ['scheduler', 'create', '/bindings default', true, 'system:kube-scheduler: bindings'],
  ['scheduler', 'patch', '/pods/status default/web', true, 'system:kube-scheduler: pods/status'],
  ['scheduler', 'watch', '/nodes -', true, 'system:kube-scheduler: read nodes'],
  ['scheduler', 'update', 'coordination.k8s.io/leases kube-system/kube-scheduler', true, 'its own leader lease by name'],
  ['scheduler', 'update', 'coordination.k8s.io/leases kube-system/other', false, 'resourceNames [kube-scheduler]'],
  ['scheduler', 'delete', '/nodes -/node01', false, 'the scheduler never writes nodes'],
  ['scheduler', 'create', '/pods default', false, 'the scheduler does not create pods'],
  ['kcm', 'list', 'apps/deployments -', true, 'system:kube-controller-manager: list/watch */*'],
  ['kcm', 'patch', '/nodes/status -/node01', true, 'system:controller:node-controller, bound to it by kubefacade'],
  ['kcm', 'create', '/pods default', true, 'system:controller:replicaset-controller, bound to it by kubefacade'],
  ['kcm', 'update', 'apps/deployments/status default/web', true, 'system:controller:deployment-controller'],
  ['kcm', 'patch', 'apps/deployments default/web', true, 'system:controller:generic-garbage-collector patches */*'],
  ['kcm', 'create', 'rbac.authorization.k8s.io/roles default', false, 'no controller role creates RBAC objects'],
  ['watcher', 'watch', '/pods -', true, 'kubefacade:kubelet-watcher reads pods'],
  ['watcher', 'patch', '/pods/status default/web', false, 'kubefacade:kubelet-watcher is read-only'],
  ['node01', 'get', '/nodes -/node01', true, 'Node authorizer: its own Node'],
  ['node01', 'get', '/nodes -/node02', false, 'Node authorizer: only its own Node object'],
  ['node01', 'list', '/nodes -', false, 'Node authorizer: cannot read all nodes'],
  ['node01', 'patch', '/nodes/status -/node02', true, 'allowed here; NodeRestriction refuses another node'],
  ['node01', 'delete', '/nodes -/node01', false, 'Node authorizer: no delete'],
  ['node01', 'get', '/pods default/web-on-1', true, 'Node authorizer: pod bound to node01'],
  ['node01', 'get', '/pods default/web-on-2', false, 'Node authorizer: pod bound elsewhere'],
  ['node01', 'list', '/pods -', false, 'Node authorizer: needs spec.nodeName=<self>'],
  ['node01', 'update', '/pods/status default/web-on-2', true, 'allowed here; NodeRestriction refuses pods of other nodes'],
  ['node01', 'create', '/pods/exec default/web-on-1', false, 'Node authorizer: no other pod subresources'],
  ['node01', 'update', 'coordination.k8s.io/leases kube-node-lease/node01', true, 'its own lease'],
  ['node01', 'update', 'coordination.k8s.io/leases kube-node-lease/node02', false, 'only a lease named after itself'],
  ['node01', 'create', 'coordination.k8s.io/leases default', false, 'only in kube-node-lease'],
  ['node01', 'create', '/events default', true, 'node rules: events'],
  ['node01', 'get', '/secrets default/s', false, 'Node authorizer: secrets only via pods it runs'],
  ['node01', 'get', '/services default/kubernetes', true, 'node rules: read services'],
  ['fakeNode', 'get', '/nodes -/node01', false, 'not in system:nodes: not a node, and RBAC binds system:node to nobody'],
];

describe('authorization over the bootstrap policy and custom RBAC', () => {
  for (const [who, verb, target, allowed, why] of rows) {
    test(`${who} ${verb} ${target}: ${allowed ? 'allowed' : 'denied'} (${why})`, () => {
      const result = authorizer.authorize(attributes(users[who], verb, target));
      assert.equal(result.decision, allowed ? 'allow' : 'no-opinion', result.reason);
    });
  }

  test('node list/watch of pods is allowed with its own spec.nodeName field selector only', () => {
    assert.equal(authorizer.authorize(attributes(users.node01, 'watch', '/pods -', 'spec.nodeName=node01')).decision, 'allow');
    assert.equal(authorizer.authorize(attributes(users.node01, 'watch', '/pods -', 'spec.nodeName=node02')).decision, 'no-opinion');
  });

  test('reasons: which binding allowed, why the Node authorizer refused, which role is missing', () => {
    assert.equal(authorizer.authorize(attributes(users.alice, 'list', '/pods team-a')).reason,
      'RBAC: allowed by RoleBinding "alice-reader/team-a" of Role "pod-reader" to User "alice"');
    assert.equal(authorizer.authorize(attributes(users.builder, 'get', 'apps/deployments/scale team-a/web')).reason,
      'RBAC: allowed by RoleBinding "builder/team-a" of Role "scaler" to ServiceAccount "builder/team-a"');
    assert.equal(authorizer.authorize(attributes(users.alice, 'get', '/api')).reason,
      'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"');
    assert.equal(authorizer.authorize(attributes(users.node01, 'get', '/nodes -/node02')).reason,
      "node 'node01' cannot read 'node02', only its own Node object");
    assert.equal(authorizer.authorize(attributes(users.node01, 'list', '/pods -')).reason,
      'can only list/watch pods with spec.nodeName field selector');
    assert.equal(authorizer.authorize(attributes(users.alice, 'delete', '/pods team-a/web')).reason,
      'RBAC: role.rbac.authorization.k8s.io "does-not-exist" not found');
  });

  test('403 messages are worded as kube-apiserver words them', () => {
    const message = (user: string, verb: string, target: string) => {
      const attrs = attributes(users[user], verb, target);
      return forbiddenError(attrs, authorizer.authorize(attrs).reason).message;
    };
    assert.equal(message('bob', 'list', '/pods default'), 'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"');
    assert.equal(message('bob', 'list', '/nodes -'), 'nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope');
    assert.equal(message('dave', 'get', '/secrets default/s'), 'secrets "s" is forbidden: User "dave" cannot get resource "secrets" in API group "" in the namespace "default"');
    assert.equal(message('bob', 'update', '/pods/status team-a/web'), 'pods "web" is forbidden: User "bob" cannot update resource "pods/status" in API group "" in the namespace "team-a"');
    assert.equal(message('bob', 'create', 'rbac.authorization.k8s.io/roles team-b'),
      'roles.rbac.authorization.k8s.io is forbidden: User "bob" cannot create resource "roles" in API group "rbac.authorization.k8s.io" in the namespace "team-b"');
    assert.equal(message('anonymous', 'get', '/api'), 'forbidden: User "system:anonymous" cannot get path "/api"');
    assert.equal(message('node01', 'get', '/nodes -/node02'),
      "nodes \"node02\" is forbidden: User \"system:node:node01\" cannot get resource \"nodes\" in API group \"\" at the cluster scope: node 'node01' cannot read 'node02', only its own Node object");
    const err = forbiddenError(attributes(users.dave, 'get', '/secrets default/s'), '');
    assert.deepEqual(JSON.parse(JSON.stringify(err.toStatus())), {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: 'Forbidden',
      details: { name: 's', kind: 'secrets' }, code: 403,
    });
  });

  test('rules review: RBAC rules of the namespace; a node gets an incomplete answer', () => {
    const resolver = new UnionRuleResolver([node, rbac]);
    const alice = resolver.rulesFor(users.alice, 'team-a');
    assert.deepEqual(alice.resourceRules.filter((r) => r.resources.includes('pods')), [
      { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'pods/log'], resourceNames: [] },
      { verbs: ['get', 'update'], apiGroups: [''], resources: ['pods'], resourceNames: ['web'] },
    ]);
    assert.equal(alice.incomplete, false);
    assert.deepEqual(alice.errors, ['role.rbac.authorization.k8s.io "does-not-exist" not found']);
    const nodeRules = resolver.rulesFor(users.node01, 'default');
    assert.equal(nodeRules.incomplete, true);
    assert.deepEqual(nodeRules.errors, ['node authorizer does not support user rule resolution']);
  });

  test('aggregation fills admin, edit and view from the aggregate-to-* roles', () => {
    const byName = new Map(policy.listClusterRoles().map((r) => [r.metadata.name, r]));
    const rulesOf = (name: string) => (byName.get(name)?.rules ?? []) as object[];
    assert.ok(rulesOf('view').length > 0);
    assert.deepEqual(covers(rulesOf('edit') as never, rulesOf('view') as never).covered, true);
    assert.deepEqual(covers(rulesOf('admin') as never, rulesOf('edit') as never).covered, true);
    assert.deepEqual(covers(rulesOf('view') as never, rulesOf('edit') as never).covered, false);
    assert.deepEqual(rulesOf('monitoring'), [{ verbs: ['list', 'watch'], apiGroups: [''], resources: ['pods'] }]);
  });

  test('Covers breaks rules down; CompactString prints them as kube does', () => {
    const owner = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', '*/status'] }];
    const result = covers(owner, [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods', 'nodes/status'] }]);
    assert.deepEqual(result.missing, [
      { apiGroups: [''], resources: ['pods'], verbs: ['delete'] },
      { apiGroups: [''], resources: ['nodes/status'], verbs: ['delete'] },
    ]);
    assert.deepEqual(compactRules([
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] }, { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
    ]).map(compactString), ['{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}']);
    assert.equal(compactString({ verbs: ['get'], nonResourceURLs: ['/metrics'] }), '{NonResourceURLs:["/metrics"], Verbs:["get"]}');
    assert.equal(compactString({ verbs: ['update'], apiGroups: [''], resources: ['pods'], resourceNames: ['web'] }),
      '{APIGroups:[""], Resources:["pods"], ResourceNames:["web"], Verbs:["update"]}');
  });
});

describe('RBAC escalation prevention', () => {
  const escalation = new RbacEscalationAdmission(policy, authorizer);
  const write = (user: UserInfo, resource: string, namespace: string, object: KubeObject, operation: 'CREATE' | 'UPDATE' = 'CREATE', oldObject?: KubeObject): AdmissionAttributes => ({
    operation, group: RBAC, resource, subresource: '', namespace, name: object.metadata.name ?? '', object, oldObject, user,
  });
  const refusal = (attrs: AdmissionAttributes): string => {
    try {
      escalation.validate(attrs);
    } catch (err) {
      assert.ok(err instanceof StatusError);
      assert.equal(err.code, 403);
      return err.message;
    }
    return 'allowed';
  };

  test('a role may grant only what its author holds', () => {
    assert.equal(refusal(write(users.alice, 'roles', 'team-a', role('team-a', 'mine', [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }]))), 'allowed');
    assert.equal(refusal(write(users.alice, 'roles', 'team-a', role('team-a', 'more', [
      { verbs: ['get', 'delete', 'create'], apiGroups: [''], resources: ['pods'] }, { verbs: ['get'], apiGroups: [''], resources: ['secrets'] },
    ]))), 'roles.rbac.authorization.k8s.io "more" is forbidden: user "alice" (groups=["dev" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n'
      + '{APIGroups:[""], Resources:["pods"], Verbs:["delete" "create"]}\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}'
      + '; resolution errors: [roles.rbac.authorization.k8s.io "does-not-exist" not found]');
    // Holding the rules in another namespace does not count.
    assert.match(refusal(write(users.alice, 'roles', 'default', role('default', 'mine', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]))),
      /is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["pods"\], Verbs:\["get"\]\}$/);
  });

  test('system:masters and holders of escalate skip the check; the aggregationRule needs everything', () => {
    assert.equal(refusal(write(users.admin, 'clusterroles', '', clusterRole('all', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]))), 'allowed');
    const escalator = { username: 'esc', groups: ['system:authenticated'] };
    const withEscalate = new StaticPolicySource({
      clusterRoles: [clusterRole('escalator', [{ verbs: ['escalate'], apiGroups: [RBAC], resources: ['clusterroles'] }])],
      clusterRoleBindings: [clusterRoleBinding('esc', 'escalator', [subject('User', 'esc')])],
    });
    const rbacOnly = new RbacAuthorizer(withEscalate);
    assert.doesNotThrow(() => new RbacEscalationAdmission(withEscalate, rbacOnly).validate(write(escalator, 'clusterroles', '', clusterRole('all', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]))));
    assert.equal(refusal(write(users.bob, 'clusterroles', '', clusterRole('agg', undefined, { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] } }))),
      'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule');
  });

  test('a binding needs bind on the role, or the role\'s rules', () => {
    // bob is admin in team-a: he holds edit's rules there, so he may bind edit there, but not cluster-admin.
    assert.equal(refusal(write(users.bob, 'rolebindings', 'team-a', roleBinding('team-a', 'x', 'ClusterRole', 'edit', [subject('User', 'erin')]))), 'allowed');
    assert.match(refusal(write(users.bob, 'rolebindings', 'team-a', roleBinding('team-a', 'y', 'ClusterRole', 'cluster-admin', [subject('User', 'erin')]))),
      /^rolebindings\.rbac\.authorization\.k8s\.io "y" is forbidden: user "bob" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n/);
    assert.equal(refusal(write(users.bob, 'rolebindings', 'team-a', roleBinding('team-a', 'z', 'Role', 'nope', []))),
      'rolebindings.rbac.authorization.k8s.io "z" is forbidden: roles.rbac.authorization.k8s.io "nope" not found');
    const binder = { username: 'binder', groups: ['system:authenticated'] };
    const withBind = new StaticPolicySource({
      clusterRoles: [clusterRole('cluster-admin', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]),
        clusterRole('binder', [{ verbs: ['bind'], apiGroups: [RBAC], resources: ['clusterroles'], resourceNames: ['cluster-admin'] }])],
      clusterRoleBindings: [clusterRoleBinding('binder', 'binder', [subject('User', 'binder')])],
    });
    assert.doesNotThrow(() => new RbacEscalationAdmission(withBind, new RbacAuthorizer(withBind)).validate(
      write(binder, 'clusterrolebindings', '', clusterRoleBinding('b', 'cluster-admin', [subject('User', 'binder')]))));
  });

  test('an update touching only owner references or finalizers is never an escalation', () => {
    const old = role('team-a', 'big', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]);
    const changed = { ...old, metadata: { ...old.metadata, finalizers: ['example.com/keep'] } };
    assert.equal(refusal(write(users.alice, 'roles', 'team-a', changed, 'UPDATE', old)), 'allowed');
  });
});

describe('NodeRestriction', () => {
  const admission = new NodeRestrictionAdmission();
  const pod = (name: string, nodeName: string, labels?: Record<string, string>): KubeObject =>
    ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) }, spec: { nodeName } });
  const nodeObject = (name: string, labels: Record<string, string> = {}, taints: object[] = []): KubeObject =>
    ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { taints } });
  const refusal = (attrs: Omit<AdmissionAttributes, 'user'>, user: UserInfo = users.node01): string => {
    try {
      admission.validate({ ...attrs, user });
    } catch (err) {
      assert.ok(err instanceof StatusError);
      return err.message;
    }
    return 'allowed';
  };
  const podStatus = (old: KubeObject, updated: KubeObject) => ({ operation: 'UPDATE' as const, group: '', resource: 'pods', subresource: 'status', namespace: 'default', name: old.metadata.name!, object: updated, oldObject: old });

  test('pod status only for pods bound to the node, labels untouched', () => {
    assert.equal(refusal(podStatus(pod('a', 'node01'), pod('a', 'node01'))), 'allowed');
    assert.equal(refusal(podStatus(pod('b', 'node02'), pod('b', 'node02'))), 'pods "b" is forbidden: node "node01" can only update pod status for pods with spec.nodeName set to itself');
    assert.equal(refusal(podStatus(pod('a', 'node01'), pod('a', 'node01', { x: 'y' }))), 'pods "a" is forbidden: node "node01" cannot update labels through pod status');
    assert.equal(refusal(podStatus(pod('b', 'node02'), pod('b', 'node02')), users.alice), 'allowed');
  });

  test('pods: delete only its own, create only mirror pods', () => {
    const del = (p: KubeObject) => ({ operation: 'DELETE' as const, group: '', resource: 'pods', subresource: '', namespace: 'default', name: p.metadata.name!, oldObject: p });
    assert.equal(refusal(del(pod('a', 'node01'))), 'allowed');
    assert.equal(refusal(del(pod('b', 'node02'))), 'pods "b" is forbidden: node "node01" can only delete pods with spec.nodeName set to itself');
    assert.equal(refusal({ operation: 'CREATE', group: '', resource: 'pods', subresource: '', namespace: 'default', name: 'm', object: pod('m', 'node01') }),
      'pods "m" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "node01" can only create mirror pods');
  });

  test('nodes: only itself, no taint changes, only kubelet labels', () => {
    const update = (old: KubeObject, updated: KubeObject) => ({ operation: 'UPDATE' as const, group: '', resource: 'nodes', subresource: '', namespace: '', name: old.metadata.name!, object: updated, oldObject: old });
    assert.equal(refusal(update(nodeObject('node01'), nodeObject('node01', { 'kubernetes.io/hostname': 'node01', tier: 'x' }))), 'allowed');
    assert.equal(refusal(update(nodeObject('node02'), nodeObject('node02'))), 'nodes "node02" is forbidden: node "node01" is not allowed to modify node "node02"');
    assert.equal(refusal(update(nodeObject('node01'), nodeObject('node01', {}, [{ key: 'k', effect: 'NoSchedule' }]))), 'nodes "node01" is forbidden: node "node01" is not allowed to modify taints');
    assert.equal(refusal(update(nodeObject('node01'), nodeObject('node01', { 'node-role.kubernetes.io/control-plane': '' }))),
      'nodes "node01" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/control-plane');
    assert.equal(refusal({ operation: 'CREATE', group: '', resource: 'nodes', subresource: '', namespace: '', name: 'node01', object: nodeObject('node01', { 'node-restriction.kubernetes.io/pool': 'a' }) }),
      'nodes "node01" is forbidden: node "node01" is not allowed to set the following labels: node-restriction.kubernetes.io/pool');
  });

  test('leases: only its own, only in kube-node-lease', () => {
    const lease = (namespace: string, name: string) => ({ operation: 'CREATE' as const, group: 'coordination.k8s.io', resource: 'leases', subresource: '', namespace, name, object: { metadata: { name, namespace } } });
    assert.equal(refusal(lease('kube-node-lease', 'node01')), 'allowed');
    assert.equal(refusal(lease('kube-node-lease', 'node02')), 'leases.coordination.k8s.io "node02" is forbidden: can only access node lease with the same name as the requesting node');
    assert.equal(refusal(lease('default', 'node01')), 'leases.coordination.k8s.io "node01" is forbidden: can only access leases in the "kube-node-lease" system namespace');
  });
});
