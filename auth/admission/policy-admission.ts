// The ValidatingAdmissionPolicy plugin (k8s.io/apiserver/pkg/admission/plugin/policy/validating):
// every binding (in name order) whose policy exists and whose policy matchConstraints and binding
// matchResources match the request evaluates the policy's CEL validations with `object`,
// `oldObject`, `request`, `params` (the binding's paramRef resolved against any served kind, by
// name or by selector), `namespaceObject` and `variables`. A false validation is a denial
// (validationActions Deny: one 422/403 error worded as upstream), a `Warning:` header (Warn), or an
// annotation of the request's audit event (Audit), where the policy's auditAnnotations also go.
// Evaluation errors obey failurePolicy.

import type { AdmissionAttributes, ValidatingAdmission } from '../../api/admission.ts';
import { StatusError, type StatusReason } from '../../api/errors.ts';
import type { KubeObject } from '../../api/object.ts';
import type { ApiRegistry } from '../../api/registry/registry.ts';
import { bindingSpec, policySpec, type BindingSpec, type MatchResources, type PolicySpec } from '../../api/resources/admission-policies.ts';
import { matchLabelSelector } from '../../api/selectors/label-selector.ts';
import { compileCelExpression, jsonToCel, type CelProgram } from '../../api/cel/expressions.ts';
import type { ObjectSource } from './object-source.ts';
import {
  isAdmissionConfigurationResource, namespaceSelectorMatches, objectSelectorMatches, ruleMatches, type NamespaceLabels,
} from './webhook-matching.ts';

interface CompiledPolicy {
  name: string;
  spec: PolicySpec;
  validations: { expression: string; program?: CelProgram; error?: string; message?: string; messageProgram?: CelProgram; reason?: string }[];
  variables: { name: string; program?: CelProgram; error?: string }[];
  conditions: { name: string; program?: CelProgram; error?: string }[];
  auditAnnotations: { key: string; program?: CelProgram; error?: string }[];
}

const REASON_CODES: Record<string, number> = { Unauthorized: 401, Forbidden: 403, Invalid: 422, RequestEntityTooLarge: 413 };

class Denial extends Error {
  constructor(message: string, readonly reason: string) {
    super(message);
  }
}

export class ValidatingAdmissionPolicyAdmission implements ValidatingAdmission {
  /** Policies see CONNECT requests too (upstream's plugin handles Connect): `object` is the connect options. */
  readonly handlesConnect = true;
  private readonly compiled = new Map<string, { generation: number; policy: CompiledPolicy }>();

  constructor(
    private readonly policies: ObjectSource,
    private readonly bindings: ObjectSource,
    private readonly registry: ApiRegistry,
    private readonly namespaceLabels: NamespaceLabels,
  ) {}

  async validate(attributes: AdmissionAttributes): Promise<void> {
    if (this.bindings.list().length === 0 || isAdmissionConfigurationResource(attributes)) return;
    for (const binding of this.bindings.list()) {
      const spec = bindingSpec(structuredClone(binding));
      const policyObject = this.policies.get(spec.policyName);
      if (!policyObject) continue;
      const policy = this.compile(policyObject);
      if (!await this.matches(policy.spec.matchConstraints, attributes)) continue;
      if (spec.matchResources && !await this.matches(spec.matchResources, attributes, true)) continue;
      const bindingName = binding.metadata.name ?? '';
      const header = `ValidatingAdmissionPolicy '${policy.name}' with binding '${bindingName}'`;
      const actions = spec.validationActions ?? ['Deny'];
      try {
        const paramSets = await this.params(policy, spec, attributes);
        for (const params of paramSets) {
          const failures = await this.evaluate(policy, attributes, params);
          for (const failure of failures) {
            if (actions.includes('Audit')) this.auditFailure(attributes, policy.name, bindingName, failure, actions);
            if (actions.includes('Warn')) attributes.warnings?.push(`Validation failed for ${header}: ${failure.message}`);
            if (actions.includes('Deny')) throw new Denial(`${header} denied request: ${failure.message}`, failure.reason);
          }
        }
      } catch (error) {
        if (error instanceof Denial) {
          const code = REASON_CODES[error.reason] ?? 422;
          throw new StatusError(code, error.reason as StatusReason, error.message, { causes: [{ message: error.message }] });
        }
        if (policy.spec.failurePolicy === 'Ignore') continue;
        const message = `${header} denied request: ${(error as Error).message}`;
        if (actions.includes('Deny')) throw new StatusError(422, 'Invalid', message, { causes: [{ message }] });
        if (actions.includes('Warn')) attributes.warnings?.push(message);
      }
    }
  }

  /** The Audit action: upstream's `validation.policy.admission.k8s.io/validation_failure` annotation (a JSON list). */
  private auditFailure(attributes: AdmissionAttributes, policy: string, binding: string, failure: { message: string; index: number }, actions: string[]): void {
    if (!attributes.auditAnnotations) return;
    const key = 'validation.policy.admission.k8s.io/validation_failure';
    const previous = attributes.auditAnnotations[key] ? JSON.parse(attributes.auditAnnotations[key]) as unknown[] : [];
    previous.push({ message: failure.message, policy, binding, expressionIndex: failure.index, validationActions: actions });
    attributes.auditAnnotations[key] = JSON.stringify(previous);
  }

  private compile(object: KubeObject): CompiledPolicy {
    const name = object.metadata.name ?? '';
    const cached = this.compiled.get(name);
    const generation = Number(object.metadata.resourceVersion ?? 0);
    if (cached && cached.generation === generation) return cached.policy;
    const spec = policySpec(structuredClone(object));
    const policy: CompiledPolicy = {
      name, spec,
      validations: (spec.validations ?? []).map((v) => {
        const compiled = compileCelExpression(v.expression);
        return { expression: v.expression, ...compiled, message: v.message, reason: v.reason, messageProgram: v.messageExpression ? compileCelExpression(v.messageExpression).program : undefined };
      }),
      variables: (spec.variables ?? []).map((v) => ({ name: v.name, ...compileCelExpression(v.expression) })),
      conditions: (spec.matchConditions ?? []).map((c) => ({ name: c.name, ...compileCelExpression(c.expression) })),
      auditAnnotations: (spec.auditAnnotations ?? []).map((a) => ({ key: a.key, ...compileCelExpression(a.valueExpression) })),
    };
    this.compiled.set(name, { generation, policy });
    return policy;
  }

  /** A binding's matchResources without resourceRules narrows by selectors only (every resource the policy matches). */
  private async matches(match: MatchResources | undefined, attributes: AdmissionAttributes, narrowing = false): Promise<boolean> {
    if (!match) return false;
    const target = {
      operation: attributes.operation, group: attributes.group, version: attributes.version ?? '', resource: attributes.resource,
      subresource: attributes.subresource, namespaced: attributes.namespace !== '',
    };
    const name = attributes.name || attributes.object?.metadata.name || '';
    const byRule = (rule: NonNullable<MatchResources['resourceRules']>[number]) => ruleMatches(rule, target) && (!rule.resourceNames?.length || rule.resourceNames.includes(name));
    if (!(narrowing && !match.resourceRules?.length) && !(match.resourceRules ?? []).some(byRule)) return false;
    if ((match.excludeResourceRules ?? []).some(byRule)) return false;
    if (!await namespaceSelectorMatches(match.namespaceSelector, attributes, this.namespaceLabels)) return false;
    return objectSelectorMatches(match.objectSelector, attributes);
  }

  /** The parameter objects a binding names: [undefined] without paramKind; [] allowed when none exist and the action is Allow. */
  private async params(policy: CompiledPolicy, spec: BindingSpec, attributes: AdmissionAttributes): Promise<(KubeObject | undefined)[]> {
    const paramKind = policy.spec.paramKind;
    if (!paramKind) return [undefined];
    const ref = spec.paramRef;
    if (!ref) throw new Error('failed to configure binding: paramRef is required when paramKind is set');
    const [group, version] = paramKind.apiVersion.includes('/') ? paramKind.apiVersion.split('/') : ['', paramKind.apiVersion];
    const store = this.registry.all().find((s) => s.strategy.group === group && s.strategy.version === version && s.strategy.kind === paramKind.kind);
    if (!store) throw new Error(`failed to configure policy: failed to find resource referenced by paramKind: '${paramKind.apiVersion}, Kind=${paramKind.kind}'`);
    const namespace = store.strategy.namespaced ? (ref.namespace ?? attributes.namespace) : '';
    let found: KubeObject[];
    if (ref.name) {
      const object = await store.storage.get(store.key(namespace, ref.name));
      found = object ? [object] : [];
    } else {
      const listed = await store.storage.list(store.prefix(namespace));
      found = listed.items.filter((o) => matchLabelSelector(ref.selector, o.metadata.labels ?? {}));
    }
    if (found.length > 0) return found;
    if (ref.parameterNotFoundAction === 'Allow') return [];
    throw new Denial('no params found for policy binding with `Deny` parameterNotFoundAction', 'Invalid');
  }

  private async evaluate(policy: CompiledPolicy, attributes: AdmissionAttributes, params: KubeObject | undefined): Promise<{ message: string; reason: string; index: number }[]> {
    const namespaceObject = attributes.namespace ? await this.namespaceObject(attributes.namespace) : null;
    const context: Record<string, unknown> = {
      object: attributes.operation === 'DELETE' ? null : jsonToCel(attributes.object ?? null),
      oldObject: attributes.operation === 'CREATE' ? null : jsonToCel(attributes.oldObject ?? null),
      params: params === undefined ? null : jsonToCel(params),
      namespaceObject: jsonToCel(namespaceObject),
      request: jsonToCel({
        operation: attributes.operation, name: attributes.name || attributes.object?.metadata.name || '', namespace: attributes.namespace,
        kind: { group: attributes.group, version: attributes.version ?? '', kind: attributes.kind ?? '' },
        resource: { group: attributes.group, version: attributes.version ?? '', resource: attributes.resource },
        subResource: attributes.subresource, dryRun: attributes.dryRun ?? false,
        userInfo: { username: attributes.user.username, groups: attributes.user.groups },
      }),
    };
    const variables: Record<string, unknown> = {};
    context.variables = variables;
    for (const variable of policy.variables) {
      if (!variable.program) throw new Error(`variable '${variable.name}' failed to compile: ${variable.error}`);
      try {
        variables[variable.name] = variable.program(context);
      } catch (error) {
        throw new Error(`variable '${variable.name}' resulted in error: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    for (const condition of policy.conditions) {
      if (!condition.program) throw new Error(`match condition '${condition.name}' failed to compile: ${condition.error}`);
      if (condition.program(context) !== true) return [];
    }
    // auditAnnotations: `<policy>/<key>` = the expression's string value (null leaves it out).
    for (const annotation of policy.auditAnnotations) {
      if (!annotation.program || !attributes.auditAnnotations) continue;
      try {
        const value = annotation.program(context);
        if (typeof value === 'string' && value !== '') attributes.auditAnnotations[`${policy.name}/${annotation.key}`] = value;
      } catch {
        // an annotation that fails to evaluate is left out, as upstream logs and skips it
      }
    }
    const failures: { message: string; reason: string; index: number }[] = [];
    for (const [index, validation] of policy.validations.entries()) {
      if (!validation.program) throw new Error(`compilation error: ${validation.error}`);
      let result: unknown;
      try {
        result = validation.program(context);
      } catch (error) {
        throw new Error(`expression '${validation.expression}' resulted in error: ${(error as Error).message.split('\n')[0]}`);
      }
      if (result === true) continue;
      let message = validation.message || `failed expression: ${validation.expression}`;
      if (validation.messageProgram) {
        try {
          const built = validation.messageProgram(context);
          if (typeof built === 'string' && built.trim() !== '') message = built;
        } catch {
          // upstream falls back to message (or the failed expression) when messageExpression fails
        }
      }
      failures.push({ message, reason: validation.reason ?? 'Invalid', index });
    }
    return failures;
  }

  private async namespaceObject(namespace: string): Promise<KubeObject | null> {
    const store = this.registry.lookup('', 'v1', 'namespaces');
    return store ? (await store.storage.get(store.key('', namespace))) ?? null : null;
  }
}
