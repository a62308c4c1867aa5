// Compiling and running the CEL expressions of admission (webhook matchConditions,
// ValidatingAdmissionPolicy validations, messageExpressions, variables) in the Kubernetes
// environment: compile once, evaluate with JSON converted to CEL values (integers as int).

import type { Environment } from '@marcbachmann/cel-js';
import { kubernetesCelEnvironment, parseKubernetesCel } from './kubernetes-library.ts';

export type CelProgram = ((context: Record<string, unknown>) => unknown) & { ast: unknown };

let environment: Environment | undefined;

function env(): Environment {
  environment ??= kubernetesCelEnvironment();
  return environment;
}

export function compileCelExpression(expression: string): { program?: CelProgram; error?: string } {
  try {
    return { program: parseKubernetesCel(env(), expression) as unknown as CelProgram };
  } catch (err) {
    return { error: `ERROR: <input>: ${(err as Error).message.split('\n')[0]}` };
  }
}

/** JSON → CEL: whole numbers become int (bigint), as Kubernetes' unstructured CEL values do. */
export function jsonToCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(jsonToCel);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = jsonToCel(v);
    return out;
  }
  return value;
}

/** CEL → JSON for messages and warnings (`string(x)` covers most; this is for audit and errors). */
export function celToJson(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(celToJson);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), celToJson(v)]));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = celToJson(v);
    return out;
  }
  return value;
}
