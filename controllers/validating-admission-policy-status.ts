// The ValidatingAdmissionPolicy status controller (kube-controller-manager's
// validatingadmissionpolicy-status-controller, pkg/controller/validatingadmissionpolicystatus): for
// every policy whose generation is newer than status.observedGeneration it type-checks the policy's
// expressions against the kinds its matchConstraints select and applies
// status.observedGeneration and status.typeChecking.expressionWarnings with server-side apply
// (its own field manager, forced). Kinds come from discovery (the RESTMapper), schemas from
// /openapi/v3 (built-in kinds and CRDs alike), as its ClientDiscoveryResolver reads them.

import { ApiStatusError } from '../clients/json-api-client.ts';
import { checkPolicy, paramsGvk, typesToCheck, type GroupVersionKind, type PolicyForTypeCheck, type ResolvedSchema } from '../api/cel/policy-type-check.ts';
import type { OpenApiSchema } from '../api/cel/schema-types.ts';
import type { CachedInformer } from './framework/cached-informer.ts';
import { QueueController, type ControllerContext } from './framework/controller.ts';

export const VAP_STATUS_CONTROLLER_NAME = 'validatingadmissionpolicy-status-controller';
const POLICIES = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';

interface PolicyView {
  metadata: { name: string; uid: string; resourceVersion?: string; generation?: number };
  spec?: PolicyForTypeCheck;
  status?: { observedGeneration?: number };
}

interface ApiResourceList { resources?: { name: string; kind: string }[] }
interface OpenApiDocument { components?: { schemas?: Record<string, OpenApiSchema> } }

const groupVersionPath = (group: string, version: string): string => (group ? `apis/${group}/${version}` : `api/${version}`);

/** Discovery and OpenAPI documents read during one reconcile (a policy names few group-versions). */
class SchemaLookup {
  private readonly discovery = new Map<string, Promise<ApiResourceList | undefined>>();
  private readonly openapi = new Map<string, Promise<OpenApiDocument | undefined>>();

  constructor(private readonly ctx: ControllerContext) {}

  private async fetch<T>(path: string): Promise<T | undefined> {
    try {
      return await this.ctx.client.request<T>('GET', path);
    } catch (err) {
      // Not served (yet): the kind is skipped, as upstream skips a schema it cannot resolve.
      if (err instanceof ApiStatusError && err.code === 404) return undefined;
      throw err;
    }
  }

  async kindsFor(group: string, version: string, resource: string): Promise<GroupVersionKind[]> {
    const key = groupVersionPath(group, version);
    if (!this.discovery.has(key)) this.discovery.set(key, this.fetch<ApiResourceList>(`/${key}`));
    const list = await this.discovery.get(key);
    const found = list?.resources?.find((r) => r.name === resource);
    return found ? [{ group, version, kind: found.kind }] : [];
  }

  async schemaOf(gvk: GroupVersionKind): Promise<ResolvedSchema | undefined> {
    const key = groupVersionPath(gvk.group, gvk.version);
    if (!this.openapi.has(key)) this.openapi.set(key, this.fetch<OpenApiDocument>(`/openapi/v3/${key}`));
    const components = (await this.openapi.get(key))?.components?.schemas ?? {};
    for (const schema of Object.values(components)) {
      const gvks = schema['x-kubernetes-group-version-kind'];
      if (Array.isArray(gvks) && gvks.some((g: GroupVersionKind) => g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind)) {
        return { schema, components };
      }
    }
    return undefined;
  }
}

export class ValidatingAdmissionPolicyStatusController extends QueueController {
  private readonly policies: CachedInformer<PolicyView>;

  constructor(ctx: ControllerContext) {
    super(VAP_STATUS_CONTROLLER_NAME, ctx);
    this.policies = ctx.informers.informer(POLICIES, (raw) => raw as unknown as PolicyView);
    this.policies.addHandlers({
      add: (policy) => this.enqueue(policy.metadata.name),
      update: (_old, policy) => this.enqueue(policy.metadata.name),
    });
  }

  protected async sync(name: string): Promise<void> {
    const policy = this.policies.get(undefined, name);
    // Deleted meanwhile, or already checked at this generation.
    if (!policy) return;
    const generation = policy.metadata.generation ?? 0;
    if (generation <= (policy.status?.observedGeneration ?? 0)) return;
    const spec = policy.spec ?? {};
    const lookup = new SchemaLookup(this.ctx);
    const objectTypes: { gvk: GroupVersionKind; schema: ResolvedSchema }[] = [];
    for (const gvk of await typesToCheck(spec, (g, v, r) => lookup.kindsFor(g, v, r))) {
      const schema = await lookup.schemaOf(gvk);
      if (schema) objectTypes.push({ gvk, schema });
    }
    const paramKind = paramsGvk(spec);
    const params = paramKind ? await lookup.schemaOf(paramKind) : undefined;
    const warnings = checkPolicy(spec, objectTypes, params);
    const typeChecking = warnings.length > 0 ? { expressionWarnings: warnings } : {};
    await this.ctx.client.request('PATCH', `${POLICIES}/${encodeURIComponent(name)}/status?fieldManager=${VAP_STATUS_CONTROLLER_NAME}&force=true`, {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name },
      status: { observedGeneration: generation, typeChecking },
    }, 'application/apply-patch+yaml');
  }
}
