// plugin/pkg/auth/authorizer/node NodeAuthorizer (1.32, AuthorizeNodeWithSelectors on, as by default):
// requests from nodes are narrowed per resource: a node reads only its own Node, lists and watches only
// pods with `spec.nodeName=<itself>`, gets only pods bound to it, and touches only its own Lease in
// kube-node-lease; other writes it may attempt are limited by NodeRestriction (node-restriction.ts).
// Everything else is judged by the static node rules. Non-node users get no opinion.

import type { AuthorizationAttributes, AuthorizationResult, Authorizer, RuleResolver, RulesForResult } from '../authorizer.ts';
import { rulesAllow, type PolicyRule } from '../rbac/policy-rule.ts';
import type { UserInfo } from '../user.ts';
import { nodeIdentity } from './node-identity.ts';
import type { PodNodeLookup } from './pod-node-index.ts';

const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const ALLOW: AuthorizationResult = { decision: 'allow', reason: '' };
const noOpinion = (reason = ''): AuthorizationResult => ({ decision: 'no-opinion', reason });

/** Vertex types of the upstream graph; pods, and the secrets, configmaps and service accounts pods reference, have edges here. */
type VertexType = 'pod' | 'secret' | 'configmap' | 'pvc' | 'pv' | 'resourceclaim' | 'volumeattachment' | 'serviceAccount';

export class NodeAuthorizer implements Authorizer, RuleResolver {
  constructor(private readonly pods: PodNodeLookup, private readonly nodeRules: PolicyRule[]) {}

  rulesFor(user: UserInfo): RulesForResult {
    if (nodeIdentity(user).isNode) {
      return { resourceRules: [], nonResourceRules: [], incomplete: true, errors: ['node authorizer does not support user rule resolution'] };
    }
    return { resourceRules: [], nonResourceRules: [], incomplete: false, errors: [] };
  }

  authorize(attributes: AuthorizationAttributes): AuthorizationResult {
    const identity = nodeIdentity(attributes.user);
    if (!identity.isNode) return noOpinion();
    const nodeName = identity.nodeName;
    if (!nodeName) return noOpinion(`unknown node for user ${JSON.stringify(attributes.user.username)}`);
    if (attributes.resourceRequest) {
      switch (`${attributes.apiGroup}/${attributes.resource}`) {
        case '/secrets': return this.readNamespacedObject(nodeName, 'secret', attributes);
        case '/configmaps': return this.readNamespacedObject(nodeName, 'configmap', attributes);
        case '/persistentvolumeclaims':
          return attributes.subresource === 'status' ? this.statusUpdate(nodeName, 'pvc', attributes) : this.get(nodeName, 'pvc', attributes);
        case '/persistentvolumes': return this.get(nodeName, 'pv', attributes);
        case 'resource.k8s.io/resourceclaims': return this.get(nodeName, 'resourceclaim', attributes);
        case 'storage.k8s.io/volumeattachments': return this.get(nodeName, 'volumeattachment', attributes);
        case '/serviceaccounts': return this.createToken(nodeName, attributes);
        case 'coordination.k8s.io/leases': return this.lease(nodeName, attributes);
        case 'storage.k8s.io/csinodes': return this.csiNode(nodeName, attributes);
        case '/nodes': return this.node(nodeName, attributes);
        case '/pods': return this.pod(nodeName, attributes);
        default: break;
      }
    }
    return rulesAllow(attributes, this.nodeRules) ? ALLOW : noOpinion();
  }

  private statusUpdate(nodeName: string, type: VertexType, attributes: AuthorizationAttributes): AuthorizationResult {
    if (attributes.verb !== 'update' && attributes.verb !== 'patch') return noOpinion('can only get/update/patch this type');
    if (attributes.subresource !== 'status') return noOpinion('can only update status subresource');
    return this.related(nodeName, type, attributes);
  }

  private get(nodeName: string, type: VertexType, attributes: AuthorizationAttributes): AuthorizationResult {
    if (attributes.verb !== 'get') return noOpinion('can only get individual resources of this type');
    if (attributes.subresource) return noOpinion('cannot get subresource');
    return this.related(nodeName, type, attributes);
  }

  private readNamespacedObject(nodeName: string, type: VertexType, attributes: AuthorizationAttributes): AuthorizationResult {
    if (!['get', 'list', 'watch'].includes(attributes.verb)) return noOpinion('can only read resources of this type');
    if (attributes.subresource) return noOpinion('cannot read subresource');
    if (!attributes.namespace) return noOpinion('can only read namespaced object of this type');
    return this.related(nodeName, type, attributes);
  }

  /** hasPathFrom: is there an edge from this object to the node? */
  private related(nodeName: string, type: VertexType, attributes: AuthorizationAttributes): AuthorizationResult {
    if (!attributes.name) return noOpinion('No Object name found');
    const bound = type === 'pod'
      ? this.pods.nodeOf(attributes.namespace, attributes.name) === nodeName
      : (type === 'secret' || type === 'configmap' || type === 'serviceAccount')
        && this.pods.referencedFrom?.(nodeName, type === 'serviceAccount' ? 'serviceaccount' : type, attributes.namespace, attributes.name) === true;
    return bound ? ALLOW : noOpinion(`no relationship found between node '${nodeName}' and this object`);
  }

  private createToken(nodeName: string, attributes: AuthorizationAttributes): AuthorizationResult {
    if (attributes.verb !== 'create' || !attributes.name) return noOpinion('can only create tokens for individual service accounts');
    if (attributes.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
    return this.related(nodeName, 'serviceAccount', attributes);
  }

  private lease(nodeName: string, attributes: AuthorizationAttributes): AuthorizationResult {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(attributes.verb)) {
      return noOpinion('can only get, create, update, patch, or delete a node lease');
    }
    if (attributes.namespace !== NODE_LEASE_NAMESPACE) return noOpinion(`can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
    // On create the name is not known yet; NodeRestriction checks it against the object.
    if (attributes.verb !== 'create' && attributes.name !== nodeName) return noOpinion('can only access node lease with the same name as the requesting node');
    return ALLOW;
  }

  private csiNode(nodeName: string, attributes: AuthorizationAttributes): AuthorizationResult {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(attributes.verb)) return noOpinion('can only get, create, update, patch, or delete a CSINode');
    if (attributes.subresource) return noOpinion('cannot authorize CSINode subresources');
    if (attributes.verb !== 'create' && attributes.name !== nodeName) return noOpinion('can only access CSINode with the same name as the requesting node');
    return ALLOW;
  }

  private node(nodeName: string, attributes: AuthorizationAttributes): AuthorizationResult {
    if (attributes.subresource === '') {
      if (['create', 'update', 'patch'].includes(attributes.verb)) return ALLOW;
      if (['get', 'list', 'watch'].includes(attributes.verb)) {
        // The name is compared directly, so a kubelet may look for its Node before creating it.
        if (attributes.name === nodeName) return ALLOW;
        if (attributes.name === '') return noOpinion(`node '${nodeName}' cannot read all nodes, only its own Node object`);
        return noOpinion(`node '${nodeName}' cannot read '${attributes.name}', only its own Node object`);
      }
    } else if (attributes.subresource === 'status' && (attributes.verb === 'update' || attributes.verb === 'patch')) {
      return ALLOW;
    }
    return noOpinion();
  }

  private pod(nodeName: string, attributes: AuthorizationAttributes): AuthorizationResult {
    switch (attributes.subresource) {
      case '':
        if (attributes.verb === 'get') return this.get(nodeName, 'pod', attributes);
        if (attributes.verb === 'list' || attributes.verb === 'watch') {
          const scoped = (attributes.fieldSelector ?? []).some((r) => r.field === 'spec.nodeName' && r.operator === '=' && r.value === nodeName);
          if (scoped) return ALLOW;
          if (attributes.name) return this.related(nodeName, 'pod', attributes);
          return noOpinion('can only list/watch pods with spec.nodeName field selector');
        }
        if (attributes.verb === 'create' || attributes.verb === 'delete') return ALLOW;
        break;
      case 'status':
        if (attributes.verb === 'update' || attributes.verb === 'patch') return ALLOW;
        break;
      case 'eviction':
        if (attributes.verb === 'create') return ALLOW;
        break;
      default:
        break;
    }
    return noOpinion();
  }
}
