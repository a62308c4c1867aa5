// The environment a process in a simulated container sees, composed as the kubelet's makeEnvironmentVariables does:
// envFrom sources first, then env in order (later entries win), `$(VAR)` references to earlier variables (and to the
// service variables) expanded, then the service variables the container does not set, valueFrom.fieldRef (downward API) and resourceFieldRef resolved from the pod, ConfigMap and Secret sources read
// through the node's PodContentReader (config-content.ts).
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { parseQuantityExact } from '../../scheduler/quantity.ts';
import { envFromSource, valueFromSource, type PodContentReader } from './config-content.ts';

export interface EnvironmentInput {
  pod: V1Pod;
  container: V1Container;
  /** status.hostIP and status.podIP as the runtime knows them (the pod object may lag behind). */
  hostIp: string;
  podIp?: string;
  /** Node allocatable, for resourceFieldRef on a container without limits (the kubelet's behaviour). */
  nodeAllocatable: { cpu: string; memory: string };
  tty: boolean;
  /** ConfigMaps and Secrets the pod references; without it, such variables are left out. */
  content?: PodContentReader;
  /** Service variables (kubelet/service-environment.ts): referable as $(VAR), and set unless the container sets them. */
  serviceEnv?: ReadonlyMap<string, string>;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `metadata.labels['app']` → labels, app. */
function fieldPathValue(pod: V1Pod, path: string, hostIp: string, podIp: string | undefined): string | undefined {
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) return (keyed[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[keyed[2]];
  const map = (values: Record<string, string> | undefined): string =>
    Object.keys(values ?? {}).sort().map((key) => `${key}="${(values ?? {})[key]}"`).join('\n');
  switch (path) {
    case 'metadata.name': return pod.metadata?.name;
    case 'metadata.namespace': return pod.metadata?.namespace;
    case 'metadata.uid': return pod.metadata?.uid;
    case 'metadata.labels': return map(pod.metadata?.labels);
    case 'metadata.annotations': return map(pod.metadata?.annotations);
    case 'spec.nodeName': return pod.spec?.nodeName;
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? 'default';
    case 'status.hostIP': case 'status.hostIPs': return hostIp;
    case 'status.podIP': case 'status.podIPs': return podIp ?? '';
    default: return undefined;
  }
}

/** resourceFieldRef: the container's limit (or the node's allocatable) divided by the divisor, rounded up. */
function resourceValue(input: EnvironmentInput, resource: string, divisor: string | undefined): string | undefined {
  const [kind, name] = resource.split('.', 2) as ['limits' | 'requests', string];
  const resources = input.container.resources ?? {};
  const fromSpec = (kind === 'limits' ? resources.limits : resources.requests)?.[name];
  const fallback = name === 'cpu' ? input.nodeAllocatable.cpu : name === 'memory' ? input.nodeAllocatable.memory : undefined;
  const raw = fromSpec ?? (kind === 'limits' ? fallback : '0');
  if (raw === undefined) return undefined;
  const value = parseQuantityExact(String(raw));
  const by = parseQuantityExact(divisor ?? '1');
  if (by.numerator === 0n) return undefined;
  // value / by, rounded up (kubelet: resource.ExtractContainerResourceValue uses math.Ceil).
  const numerator = value.numerator * by.denominator;
  const denominator = value.denominator * by.numerator;
  return ((numerator + denominator - 1n) / denominator).toString();
}

/** `$(NAME)` → the value of an earlier variable; `$$(` escapes; unknown references stay as written. */
export function expandReferences(text: string, env: Map<string, string>, services?: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    if (name === undefined) return match;
    // The container's own variables first, then the services' (the kubelet's mapping functions, in that order).
    if (env.has(name)) return env.get(name)!;
    return services?.get(name) ?? match;
  });
}

/** The variables in the order `env` prints them: PATH, HOSTNAME, (TERM), the container's own, HOME. */
export async function containerEnvironment(input: EnvironmentInput): Promise<Map<string, string>> {
  const { pod, container } = input;
  const namespace = pod.metadata?.namespace ?? 'default';
  const own = new Map<string, string>();
  const content = input.content;
  for (const source of container.envFrom ?? []) {
    const values = content ? await envFromSource(content, namespace, source) : undefined;
    for (const [key, value] of Object.entries(values ?? {})) own.set(`${source.prefix ?? ''}${key}`, value);
  }
  for (const variable of container.env ?? []) {
    let value: string | undefined;
    if (variable.valueFrom) {
      const from = variable.valueFrom;
      if (from.fieldRef) value = fieldPathValue(pod, from.fieldRef.fieldPath, input.hostIp, input.podIp);
      else if (from.resourceFieldRef) value = resourceValue(input, from.resourceFieldRef.resource, from.resourceFieldRef.divisor);
      else if (content) value = await valueFromSource(content, namespace, from);
      if (value === undefined) continue;
    } else {
      value = expandReferences(variable.value ?? '', own, input.serviceEnv);
    }
    own.set(variable.name, value);
  }
  const env = new Map<string, string>();
  env.set('PATH', own.get('PATH') ?? DEFAULT_PATH);
  env.set('HOSTNAME', pod.spec?.hostname ?? pod.metadata?.name ?? '');
  if (input.tty) env.set('TERM', 'xterm');
  for (const [key, value] of own) if (key !== 'PATH' && key !== 'HOME') env.set(key, value);
  // Then the service variables the container does not set itself (makeEnvironmentVariables appends them).
  for (const [key, value] of input.serviceEnv ?? []) if (!own.has(key)) env.set(key, value);
  env.set('HOME', own.get('HOME') ?? '/root');
  return env;
}

export { fieldPathValue };
