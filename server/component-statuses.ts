// GET /api/v1/componentstatuses[/{name}] (deprecated since 1.19, still in tutorials as
// `kubectl get cs`): the health of the control plane's parts, probed when asked, with upstream's
// deprecation warning. kube-apiserver probes the scheduler's and controller-manager's /healthz on
// localhost and each etcd server; kubefacade's components have no health port, so the server
// probes what it can observe:
//   etcd-N / leveldb    a read of the store's current revision (2 s timeout);
//   scheduler,          a fresh leader-election Lease in kube-system (kube-scheduler,
//   controller-manager  kube-controller-manager), or the component's own connections: an open
//                       watch or a request within the last minute under its identity
//                       (system:kube-scheduler, system:kube-controller-manager).

import type { Request, Response } from 'express';
import { methodNotAllowed, notFound } from '../api/errors.ts';
import type { ApiRegistry } from '../api/registry/registry.ts';
import type { Storage } from '../storage/interface.ts';
import { negotiateReply } from './negotiation.ts';
import type { DiscoveryResource } from './discovery.ts';
import type { ResourceRequestInfo } from './request-info.ts';

export const COMPONENT_STATUSES_RESOURCE: DiscoveryResource = {
  group: '', version: 'v1', resource: 'componentstatuses', singular: 'componentstatus', kind: 'ComponentStatus',
  namespaced: false, verbs: ['get', 'list'], shortNames: ['cs'], categories: [], subresources: [],
};

const DEPRECATION_WARNING = '299 - "v1 ComponentStatus is deprecated in v1.19+"';
const ACTIVITY_WINDOW_MS = 60_000;
const STORE_TIMEOUT_MS = 2_000;

export interface ComponentCondition {
  status: 'True' | 'False' | 'Unknown';
  message: string;
  error: string;
}

export interface ComponentProbe {
  name: string;
  check(): Promise<ComponentCondition>;
}

/** Who has connections open now and when each user was last seen (requests and watches). */
export class ClientActivity {
  private readonly open = new Map<string, number>();
  private readonly lastSeen = new Map<string, number>();

  /** Called for every authenticated request; counts it open until its response closes. */
  observe(username: string, res: Response): void {
    if (!WATCHED_USERS.has(username)) return;
    this.open.set(username, (this.open.get(username) ?? 0) + 1);
    this.lastSeen.set(username, Date.now());
    res.once('close', () => {
      this.open.set(username, (this.open.get(username) ?? 1) - 1);
      this.lastSeen.set(username, Date.now());
    });
  }

  activity(username: string): { open: number; lastSeenMs?: number } {
    return { open: this.open.get(username) ?? 0, lastSeenMs: this.lastSeen.get(username) };
  }
}

const KUBE_SCHEDULER_USER = 'system:kube-scheduler';
const KUBE_CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';
const WATCHED_USERS = new Set([KUBE_SCHEDULER_USER, KUBE_CONTROLLER_MANAGER_USER]);

export function storeProbe(name: string, storage: Storage): ComponentProbe {
  return {
    name,
    async check() {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          storage.currentRevision(),
          new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${STORE_TIMEOUT_MS / 1000}s`)), STORE_TIMEOUT_MS); }),
        ]);
        return { status: 'True', message: 'ok', error: '' };
      } catch (err) {
        return { status: 'False', message: '', error: err instanceof Error ? err.message : String(err) };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

interface LeaseSpec { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string }

/** A control-plane component seen through its leader Lease and its own connections. */
export function componentProbe(name: string, leaseName: string, username: string, registry: ApiRegistry, activity: ClientActivity): ComponentProbe {
  return {
    name,
    async check() {
      const leases = registry.lookup('coordination.k8s.io', 'v1', 'leases');
      const lease = await leases?.get('kube-system', leaseName).catch(() => undefined);
      const spec = (lease?.spec ?? {}) as LeaseSpec;
      const renewedMs = spec.renewTime ? Date.parse(spec.renewTime) : NaN;
      if (spec.holderIdentity && Number.isFinite(renewedMs) && renewedMs + (spec.leaseDurationSeconds ?? 0) * 1000 > Date.now()) {
        return { status: 'True', message: 'ok', error: '' };
      }
      const seen = activity.activity(username);
      if (seen.open > 0 || (seen.lastSeenMs !== undefined && Date.now() - seen.lastSeenMs < ACTIVITY_WINDOW_MS)) {
        return { status: 'True', message: 'ok', error: '' };
      }
      const lastSeen = seen.lastSeenMs === undefined ? 'never connected' : `last seen ${new Date(seen.lastSeenMs).toISOString()}`;
      const leaseText = lease ? `its Lease kube-system/${leaseName} expired` : `no Lease kube-system/${leaseName}`;
      return { status: 'False', message: '', error: `${username}: no open connection and no request in the last ${ACTIVITY_WINDOW_MS / 1000}s (${lastSeen}); ${leaseText}` };
    },
  };
}

/** kube-apiserver's list: the scheduler, the controller-manager and the store. */
export function controlPlaneProbes(registry: ApiRegistry, storage: Storage, storeName: string): { probes: ComponentProbe[]; activity: ClientActivity } {
  const activity = new ClientActivity();
  return {
    activity,
    probes: [
      componentProbe('scheduler', 'kube-scheduler', KUBE_SCHEDULER_USER, registry, activity),
      componentProbe('controller-manager', 'kube-controller-manager', KUBE_CONTROLLER_MANAGER_USER, registry, activity),
      storeProbe(storeName, storage),
    ],
  };
}

interface ComponentStatus {
  kind?: 'ComponentStatus';
  apiVersion?: 'v1';
  metadata: { name: string };
  conditions: { type: 'Healthy'; status: string; message?: string; error?: string }[];
}

async function statusOf(probe: ComponentProbe): Promise<ComponentStatus> {
  const condition = await probe.check();
  return {
    metadata: { name: probe.name },
    conditions: [{ type: 'Healthy', status: condition.status, ...(condition.message ? { message: condition.message } : {}), ...(condition.error ? { error: condition.error } : {}) }],
  };
}

/** printComponentStatus: Healthy when the Healthy condition is True, Unhealthy otherwise. */
function tableRow(status: ComponentStatus, includeObject: boolean): Record<string, unknown> {
  const condition = status.conditions.find((c) => c.type === 'Healthy');
  const health = condition ? (condition.status === 'True' ? 'Healthy' : 'Unhealthy') : 'Unknown';
  const row: Record<string, unknown> = { cells: [status.metadata.name, health, condition?.message ?? '', condition?.error ?? ''] };
  if (includeObject) row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: status.metadata };
  return row;
}

const TABLE_COLUMNS = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names', priority: 0 },
  { name: 'Status', type: 'string', format: '', description: 'Status of the component conditions', priority: 0 },
  { name: 'Message', type: 'string', format: '', description: 'Message of the component conditions', priority: 0 },
  { name: 'Error', type: 'string', format: '', description: 'Error of the component conditions', priority: 0 },
];

export async function handleComponentStatuses(req: Request, res: Response, info: ResourceRequestInfo, probes: ComponentProbe[]): Promise<void> {
  if (info.subresource || (info.verb !== 'get' && info.verb !== 'list')) throw methodNotAllowed();
  const format = negotiateReply(req.headers.accept, { target: info.verb === 'list' ? 'list' : 'object', tableAllowed: true });
  let items: ComponentStatus[];
  if (info.verb === 'get') {
    const probe = probes.find((p) => p.name === info.name);
    if (!probe) throw notFound({ group: '', resource: 'componentstatuses' }, info.name);
    items = [await statusOf(probe)];
  } else {
    items = (await Promise.all(probes.map(statusOf))).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }
  res.setHeader('Warning', DEPRECATION_WARNING);
  let body: unknown;
  if (format.shape === 'Table') {
    body = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions: TABLE_COLUMNS, rows: items.map((s) => tableRow(s, true)) };
  } else if (info.verb === 'get') {
    body = { kind: 'ComponentStatus', apiVersion: 'v1', ...items[0] };
  } else {
    body = { kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items: items.map((s) => ({ kind: 'ComponentStatus', apiVersion: 'v1', ...s })) };
  }
  res.status(200).setHeader('Content-Type', format.contentType).end(format.encoding === 'json' ? JSON.stringify(body) : (await import('yaml')).stringify(body));
}
