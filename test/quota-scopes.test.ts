// Which pods a scoped ResourceQuota tracks (api/quota/scopes.ts), as upstream's podMatchesScopeFunc:
// BestEffort by QoS class, Terminating by activeDeadlineSeconds, PriorityClass by a selector over the
// pod's priorityClassName, CrossNamespacePodAffinity by affinity terms naming other namespaces.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { quotaScopesMatch } from '../api/quota/scopes.ts';
import type { KubeObject } from '../api/object.ts';

const quota = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: 'q' }, spec: { hard: { pods: '1' }, ...spec } });
const pod = (spec: Record<string, unknown> = {}, resources?: Record<string, unknown>): KubeObject => ({
  metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i', ...(resources ? { resources } : {}) }], ...spec },
});

describe('quota scopes', () => {
  test('an unscoped quota tracks everything; a scoped one only pods', () => {
    assert.equal(quotaScopesMatch(quota({}), 'configmaps', pod()), true);
    assert.equal(quotaScopesMatch(quota({ scopes: ['BestEffort'] }), 'configmaps', pod()), false);
    assert.equal(quotaScopesMatch(quota({ scopes: ['NotTerminating'] }), 'replicasets', pod(), 'apps'), false);
  });

  test('BestEffort and NotBestEffort follow the QoS class', () => {
    const burstable = pod({}, { requests: { cpu: '100m' } });
    assert.equal(quotaScopesMatch(quota({ scopes: ['BestEffort'] }), 'pods', pod()), true);
    assert.equal(quotaScopesMatch(quota({ scopes: ['BestEffort'] }), 'pods', burstable), false);
    assert.equal(quotaScopesMatch(quota({ scopes: ['NotBestEffort'] }), 'pods', burstable), true);
    // Only cpu and memory decide the QoS class.
    assert.equal(quotaScopesMatch(quota({ scopes: ['BestEffort'] }), 'pods', pod({}, { requests: { 'ephemeral-storage': '1Gi' } })), true);
  });

  test('Terminating and NotTerminating follow activeDeadlineSeconds', () => {
    assert.equal(quotaScopesMatch(quota({ scopes: ['Terminating'] }), 'pods', pod({ activeDeadlineSeconds: 0 })), true);
    assert.equal(quotaScopesMatch(quota({ scopes: ['Terminating'] }), 'pods', pod()), false);
    assert.equal(quotaScopesMatch(quota({ scopes: ['NotTerminating'] }), 'pods', pod()), true);
    // Every scope must match.
    assert.equal(quotaScopesMatch(quota({ scopes: ['Terminating', 'BestEffort'] }), 'pods', pod({ activeDeadlineSeconds: 5 }, { limits: { cpu: '1' } })), false);
  });

  test('scopeSelector: PriorityClass with In, NotIn, Exists, DoesNotExist', () => {
    const selector = (operator: string, values?: string[]) => quota({ scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator, ...(values ? { values } : {}) }] } });
    const high = pod({ priorityClassName: 'high' });
    assert.equal(quotaScopesMatch(selector('In', ['high']), 'pods', high), true);
    assert.equal(quotaScopesMatch(selector('In', ['low']), 'pods', high), false);
    assert.equal(quotaScopesMatch(selector('NotIn', ['low']), 'pods', high), true);
    assert.equal(quotaScopesMatch(selector('NotIn', ['low']), 'pods', pod()), true);
    assert.equal(quotaScopesMatch(selector('Exists'), 'pods', pod()), false);
    assert.equal(quotaScopesMatch(selector('DoesNotExist'), 'pods', pod()), true);
  });

  test('CrossNamespacePodAffinity: a term naming namespaces or a namespace selector', () => {
    const term = (extra: Record<string, unknown>) => ({ topologyKey: 'zone', labelSelector: {}, ...extra });
    const scoped = quota({ scopes: ['CrossNamespacePodAffinity'] });
    assert.equal(quotaScopesMatch(scoped, 'pods', pod({ affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ namespaces: ['other'] })] } } })), true);
    assert.equal(quotaScopesMatch(scoped, 'pods', pod({ affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: term({ namespaceSelector: {} }) }] } } })), true);
    assert.equal(quotaScopesMatch(scoped, 'pods', pod({ affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({})] } } })), false);
  });
});
