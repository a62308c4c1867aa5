import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/object.ts';
import type { RequestContext } from '../api/resource.ts';
import { StatusError } from '../api/errors.ts';
import {
  assignPodToNode, markNamespaceTerminating, namespaceStrategy, podDeletionGracePeriodSeconds, podStrategy,
  eventStrategy, nodeStrategy,
} from '../api/resources/index.ts';
import { computePodQOS } from '../api/resources/pods.ts';
import { validateObjectMeta, validateObjectMetaUpdate, nameIsDNSSubdomain, nameIsPathSegment, isDNS1123Label } from '../api/validation/index.ts';

const ctx: RequestContext = { user: { username: 'admin', groups: [] }, namespace: 'default', now: new Date('2025-01-01T00:00:00Z') };

function createPod(spec: Record<string, unknown>, name = 'web'): KubeObject {
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec, status: { phase: 'Running' } };
  podStrategy.prepareForCreate!(pod, ctx);
  podStrategy.applyDefaults!(pod);
  return pod;
}

function messages(errors: { field: string; message: string }[]): string[] {
  return errors.map((e) => `${e.field}: ${e.message}`);
}

describe('pod defaulting', () => {
  test('a minimal pod is defaulted like kube-apiserver', () => {
    const pod = createPod({ containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] });
    assert.deepEqual(pod.spec, {
      containers: [{
        name: 'nginx', image: 'nginx', imagePullPolicy: 'Always', ports: [{ containerPort: 80, protocol: 'TCP' }],
        resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
      }],
      // priority and preemptionPolicy come from the Priority admission plugin (test/priorityclass.test.ts).
      dnsPolicy: 'ClusterFirst', enableServiceLinks: true,
      restartPolicy: 'Always', schedulerName: 'default-scheduler', securityContext: {}, serviceAccount: 'default',
      serviceAccountName: 'default', terminationGracePeriodSeconds: 30,
      tolerations: [
        { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
        { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 },
      ],
    });
    assert.deepEqual(pod.status, { phase: 'Pending', qosClass: 'BestEffort' });
    assert.deepEqual(podStrategy.validate!(pod, ctx), []);
  });

  test('image pull policy follows the tag; requests default from limits; existing tolerations are kept', () => {
    const pod = createPod({
      containers: [
        { name: 'a', image: 'nginx:1.27' },
        { name: 'b', image: 'registry:5000/app:latest', resources: { limits: { cpu: '1', memory: '1Gi' } } },
        { name: 'c', image: 'nginx@sha256:abcd' },
      ],
      initContainers: [{ name: 'init', image: 'busybox' }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }],
    });
    const spec = pod.spec as { containers: Record<string, unknown>[]; initContainers: Record<string, unknown>[]; tolerations: unknown[] };
    assert.deepEqual(spec.containers.map((c) => c.imagePullPolicy), ['IfNotPresent', 'Always', 'IfNotPresent']);
    assert.equal(spec.initContainers[0].imagePullPolicy, 'Always');
    assert.deepEqual(spec.containers[1].resources, { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } });
    assert.equal(spec.tolerations.length, 2);
  });
});

describe('QoS class', () => {
  const qos = (containers: unknown[]) => computePodQOS({ metadata: {}, spec: { containers } });
  test('BestEffort, Burstable, Guaranteed', () => {
    assert.equal(qos([{ name: 'a' }]), 'BestEffort');
    assert.equal(qos([{ name: 'a', resources: { requests: { cpu: '100m' } } }]), 'Burstable');
    assert.equal(qos([{ name: 'a', resources: { limits: { cpu: '1', memory: '1Gi' } } }]), 'Guaranteed');
    assert.equal(qos([{ name: 'a', resources: { requests: { cpu: '1000m', memory: '1024Mi' }, limits: { cpu: '1', memory: '1Gi' } } }]), 'Guaranteed');
    assert.equal(qos([{ name: 'a', resources: { requests: { cpu: '500m' }, limits: { cpu: '1', memory: '1Gi' } } }]), 'Burstable');
    assert.equal(qos([{ name: 'a', resources: { limits: { cpu: '1', memory: '1Gi' } } }, { name: 'b' }]), 'Burstable');
    assert.equal(qos([{ name: 'a', resources: { requests: { 'nvidia.com/gpu': '1' } } }]), 'BestEffort');
  });
});

describe('pod validation', () => {
  test('container rules with upstream messages', () => {
    const pod = createPod({
      containers: [
        { name: 'Web', image: 'nginx', ports: [{ containerPort: 70000, protocol: 'TCPX' }] },
        { name: 'dup', image: '' },
        { name: 'dup', image: 'x', imagePullPolicy: 'Sometimes' },
      ],
      restartPolicy: 'Sometimes',
    });
    assert.deepEqual(messages(podStrategy.validate!(pod, ctx)), [
      `spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.containers[0].ports[0].protocol: Unsupported value: "TCPX": supported values: "SCTP", "TCP", "UDP"',
      'spec.containers[1].image: Required value',
      'spec.containers[2].name: Duplicate value: "dup"',
      'spec.containers[2].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
  });

  test('at least one container; pod names are DNS subdomains', () => {
    const pod = createPod({ containers: [] }, 'Nginx');
    const errors = [...validateObjectMeta(pod.metadata, true, podStrategy.validateName!), ...podStrategy.validate!(pod, ctx)];
    assert.deepEqual(messages(errors), [
      `metadata.name: Invalid value: "Nginx": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      'spec.containers: Required value',
    ]);
  });

  test('tolerations and resources', () => {
    const pod = createPod({
      containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }],
      tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }, { operator: 'Equal', effect: 'NoSchedule', tolerationSeconds: 5 }],
    });
    assert.deepEqual(messages(podStrategy.validate!(pod, ctx)), [
      'spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1',
      'spec.tolerations[0].operator: Invalid value: {"key":"k","operator":"Exists","value":"v"}: value must be empty when `operator` is \'Exists\'',
      'spec.tolerations[1].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
      "spec.tolerations[1].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
    ]);
  });
});

describe('pod updates', () => {
  const base = () => createPod({ containers: [{ name: 'a', image: 'nginx:1' }] });

  test('image, activeDeadlineSeconds and added tolerations may change', () => {
    const old = base();
    const updated = structuredClone(old);
    const spec = updated.spec as Record<string, unknown> & { containers: Record<string, unknown>[]; tolerations: unknown[] };
    spec.containers[0].image = 'nginx:2';
    spec.activeDeadlineSeconds = 60;
    spec.tolerations.push({ key: 'x', operator: 'Exists', effect: 'NoSchedule' });
    assert.deepEqual(podStrategy.validateUpdate!(updated, old, ctx), []);
  });

  test('other spec changes are forbidden with the upstream message', () => {
    const old = base();
    const updated = structuredClone(old);
    (updated.spec as Record<string, unknown>).nodeName = 'node01';
    const errs = podStrategy.validateUpdate!(updated, old, ctx);
    assert.equal(errs.length, 1);
    assert.equal(errs[0].field, 'spec');
    assert.ok(errs[0].message.startsWith('Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n'));
    assert.match(errs[0].message, /\+ \tnodeName: "node01"/);
  });

  test('removing a toleration or adding a container is refused', () => {
    const old = base();
    const fewer = structuredClone(old);
    (fewer.spec as { tolerations: unknown[] }).tolerations.pop();
    assert.deepEqual(messages(podStrategy.validateUpdate!(fewer, old, ctx)), [
      'spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds',
    ]);
    const more = structuredClone(old);
    (more.spec as { containers: unknown[] }).containers.push({ name: 'b', image: 'x' });
    assert.deepEqual(messages(podStrategy.validateUpdate!(more, old, ctx)), [
      'spec.containers: Forbidden: pod updates may not add or remove containers',
    ]);
  });
});

describe('pod binding and deletion', () => {
  const binding = (node: string): KubeObject => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web' }, target: { apiVersion: 'v1', kind: 'Node', name: node } });
  const now = new Date('2025-01-01T00:00:10.500Z');

  test('binds once and sets PodScheduled', () => {
    const pod = createPod({ containers: [{ name: 'a', image: 'x' }] });
    const bound = assignPodToNode(pod, binding('node01'), now);
    assert.equal((bound.spec as Record<string, unknown>).nodeName, 'node01');
    assert.deepEqual((bound.status as Record<string, unknown>).conditions, [
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-01-01T00:00:10Z' },
    ]);
    assert.equal((pod.spec as Record<string, unknown>).nodeName, undefined);
    assert.throws(() => assignPodToNode(bound, binding('node02'), now), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.code, 409);
      assert.equal(err.message, 'Operation cannot be fulfilled on pods/binding "web": pod web is already assigned to node "node01"');
      return true;
    });
    assert.throws(() => assignPodToNode(pod, { metadata: { name: 'web' }, target: { kind: 'Pod' } }, now), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.code, 422);
      assert.equal(err.message, 'Binding "web" is invalid: [target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>", target.name: Required value]');
      return true;
    });
  });

  test('grace period as CheckGracefulDelete', () => {
    const pod = createPod({ containers: [{ name: 'a', image: 'x' }], terminationGracePeriodSeconds: 45 });
    assert.equal(podDeletionGracePeriodSeconds(pod, undefined), 0);
    const bound = assignPodToNode(pod, binding('n'), now);
    assert.equal(podDeletionGracePeriodSeconds(bound, undefined), 45);
    assert.equal(podDeletionGracePeriodSeconds(bound, 5), 5);
    (bound.status as Record<string, unknown>).phase = 'Succeeded';
    assert.equal(podDeletionGracePeriodSeconds(bound, 5), 0);
  });

  test('selectable fields', () => {
    const pod = createPod({ containers: [{ name: 'a', image: 'x' }], nodeName: 'n1' });
    assert.deepEqual(podStrategy.selectableFields!(pod), {
      'spec.nodeName': 'n1', 'spec.restartPolicy': 'Always', 'spec.schedulerName': 'default-scheduler',
      'spec.serviceAccountName': 'default', 'spec.hostNetwork': 'false', 'status.phase': 'Pending',
      'status.podIP': '', 'status.nominatedNodeName': '',
    });
  });
});

describe('namespaces, nodes, events', () => {
  test('namespace defaults and termination', () => {
    const ns: KubeObject = { metadata: { name: 'team-a' }, spec: {} };
    namespaceStrategy.prepareForCreate!(ns, ctx);
    namespaceStrategy.applyDefaults!(ns);
    assert.deepEqual(ns, {
      metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a' } },
      spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' },
    });
    const terminating = markNamespaceTerminating(ns, new Date('2025-01-01T00:00:00.123Z'));
    assert.equal(terminating.metadata.deletionTimestamp, '2025-01-01T00:00:00Z');
    assert.deepEqual(terminating.status, { phase: 'Terminating' });
    assert.deepEqual(messages(validateObjectMeta({ name: 'a.b' }, false, namespaceStrategy.validateName!)), ['metadata.name: Invalid value: "a.b": must not contain dots']);
    const deleting = structuredClone(ns);
    namespaceStrategy.prepareForDelete!(deleting, ctx);
    assert.deepEqual(deleting.status, { phase: 'Terminating' });
    assert.equal(namespaceStrategy.pendingFinalization!(deleting), true);
    assert.equal(namespaceStrategy.pendingFinalization!({ ...deleting, spec: { finalizers: [] } }), false);
  });

  test('node taints validation and selectable fields', () => {
    const node: KubeObject = { metadata: { name: 'n1' }, spec: { unschedulable: true, taints: [{ key: 'k', effect: 'Bad' }] } };
    assert.deepEqual(messages(nodeStrategy.validate!(node, ctx)), [
      'spec.taints[0].effect: Unsupported value: "Bad": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    ]);
    assert.deepEqual(nodeStrategy.selectableFields!(node), { 'spec.unschedulable': 'true' });
  });

  test('event namespace must match the involved object', () => {
    const event: KubeObject = { metadata: { name: 'e', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'other' } };
    assert.deepEqual(messages(eventStrategy.validate!(event, ctx)), ['involvedObject.namespace: Invalid value: "other": does not match event.namespace']);
    assert.equal(eventStrategy.selectableFields!(event)['involvedObject.namespace'], 'other');
  });
});

describe('object meta validation', () => {
  test('names, labels, annotations, namespace scope', () => {
    const errs = validateObjectMeta({ name: 'ok', namespace: 'x', labels: { 'bad key!': 'v', good: 'bad value!' }, annotations: { big: 'x'.repeat(256 * 1024) } }, false, nameIsDNSSubdomain);
    assert.deepEqual(messages(errs), [
      'metadata.namespace: Forbidden: not allowed on this type',
      `metadata.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      `metadata.labels: Invalid value: "bad value!": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      'metadata.annotations: Too long: may not be more than 262144 bytes',
    ]);
    assert.deepEqual(messages(validateObjectMeta({ generateName: 'web-' }, true, nameIsDNSSubdomain)), [
      'metadata.name: Required value: name or generateName is required',
      'metadata.namespace: Required value',
    ]);
    assert.deepEqual(messages(validateObjectMeta({ name: 'a/b', namespace: 'n' }, true, nameIsPathSegment)), [
      `metadata.name: Invalid value: "a/b": may not contain '/'`,
    ]);
    assert.deepEqual(isDNS1123Label('x'.repeat(64)), ['must be no more than 63 characters']);
  });

  test('immutable identity fields', () => {
    const old = { name: 'a', namespace: 'n', uid: 'u1', creationTimestamp: '2025-01-01T00:00:00Z' };
    assert.deepEqual(messages(validateObjectMetaUpdate({ ...old, name: 'b', uid: 'u2' }, old)), [
      'metadata.name: Invalid value: "b": field is immutable',
      'metadata.uid: Invalid value: "u2": field is immutable',
    ]);
    assert.deepEqual(validateObjectMetaUpdate({ ...old, labels: { a: 'b' } }, old), []);
  });
});
