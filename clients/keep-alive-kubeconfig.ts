// Shared by the API clients (scheduler, kubelets, controllers); like them it imports nothing from server/ or storage/.
//
// client-node 1.x builds a new https.Agent, without keep-alive, for every API call (KubeConfig.applySecurityAuthentication
// → createAgent), so each call pays a TCP and TLS handshake on both ends and the server answers `Connection: close`.
// A kubelet process with dozens of nodes makes hundreds of calls a second; the handshakes, not the API server, become
// the limit (measured: ~3x fewer writes/s). This KubeConfig hands every call one shared keep-alive agent instead, built
// from the very options client-node derived, so TLS verification and client certificates are unchanged.
//
// How the pooled agent avoids reconnects and resets:
// - `timeout`: Node's agent honours the server's `Keep-Alive: timeout=N` hint (closing an idle socket a second before
//   the server would) only when the agent itself has a timeout; without one, idle sockets stay in the pool until the
//   server closes them, and a request sent on such a socket in that instant fails with ECONNRESET.
// - `maxSockets`: without a bound, a burst (thousands of pods started at once) opens a TLS connection per concurrent
//   request, and once the burst is over every socket beyond `maxFreeSockets` (256) is closed again: a handshake and a
//   teardown per request of the burst. Queueing on a bounded pool keeps the same connections busy instead; client-go
//   keeps at most 25 idle connections per host (MaxIdleConnsPerHost) for the same reason.
// - `secureContext`: built once, so a new connection does not parse the CA and client key again.
import https from 'node:https';
import tls from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];

/**
 * Connections per pool; requests beyond it wait for a free one rather than opening more. A pool serves a whole process,
 * which for the kubelet can be 5,000 nodes: their lease renewals alone are 500 requests a second. With 64 connections
 * and a loaded server answering in ~100 ms, the pool carried at most ~640 requests a second, leases took most of it,
 * and pods bound at 100,000 pods waited minutes for their first status write (measured: 131 Running 6 minutes after
 * the creates). 5,000 real kubelets would hold 5,000 connections; 256 keeps the pool bounded and, as long as the server
 * answers within ~0.5 s, out of the way. Slower than that, renewals fill even 256, which is why the kubelet keeps its
 * heartbeats and its pod writes in separate pools (kubelet/kube-client.ts).
 */
export const MAX_POOLED_CONNECTIONS = 256;
/**
 * Socket inactivity timeout of pooled connections. Idle sockets close at min(this, server hint - 1 s); in-flight requests
 * only see a 'timeout' event (nothing in client-node acts on it), so a slow answer is not cut off.
 */
const POOLED_SOCKET_TIMEOUT_MS = 60_000;

type TlsMaterial = readonly unknown[];

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.length === b.length && a.every((value, i) => {
    const other = b[i];
    if (Buffer.isBuffer(value) && Buffer.isBuffer(other)) return value.equals(other);
    if (Array.isArray(value) && Array.isArray(other)) return sameMaterial(value, other);
    return value === other;
  });
}

function materialKey(material: TlsMaterial): string {
  return JSON.stringify(material.map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : v)));
}

/**
 * Keep-alive agents by TLS material. Configs that share a pool share connections whenever their TLS
 * material is the same: bearer tokens travel per request, so a kubelet process's per-node token
 * identities can all use one pool of connections.
 */
export class AgentPool {
  private readonly agents = new Map<string, https.Agent>();

  agentFor(key: string, make: () => https.Agent): https.Agent {
    let agent = this.agents.get(key);
    if (!agent) {
      agent = make();
      this.agents.set(key, agent);
    }
    return agent;
  }

  forget(key: string): void {
    this.agents.get(key)?.destroy();
    this.agents.delete(key);
  }

  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

export class KeepAliveKubeConfig extends KubeConfig {
  private agent?: https.Agent;
  private agentKey?: string;
  private agentMaterial?: TlsMaterial;
  /** Where this config's agents come from (its own unless loadKubeConfig was given a shared one). */
  pool = new AgentPool();
  private sharedPool = false;
  /** Sent as User-Agent on every call (client-node's default otherwise). */
  userAgent: string | undefined;

  /** Draw connections from `pool` (shared with other configs) instead of a private one. */
  usePool(pool: AgentPool): this {
    this.pool = pool;
    this.sharedPool = true;
    return this;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    if (this.userAgent) context.setHeaderParam('User-Agent', this.userAgent);
    const fresh = context.getAgent();
    // Proxies and plain HTTP keep client-node's own agent.
    if (!(fresh instanceof https.Agent) || fresh.constructor !== https.Agent) return;
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = fresh.options;
    const material: TlsMaterial = [ca, cert, key, pfx, passphrase, rejectUnauthorized, servername];
    // Compared byte for byte on every call (cheap) and rebuilt if the TLS material changes, e.g. a rotated client
    // certificate read from a file; the string key is only computed when the material is new to this config.
    if (!this.agent || !this.agentMaterial || !sameMaterial(this.agentMaterial, material)) {
      const agentKey = materialKey(material);
      if (this.agentKey !== undefined && this.agentKey !== agentKey && !this.sharedPool) this.pool.forget(this.agentKey);
      this.agent = this.pool.agentFor(agentKey, () => pooledHttpsAgent(fresh.options));
      this.agentKey = agentKey;
      this.agentMaterial = material;
    }
    context.setAgent(this.agent);
  }

  /** Closes the pooled connections (idle ones would otherwise linger until the server times them out). */
  closeConnections(): void {
    this.pool.destroy();
    this.agent = undefined;
    this.agentKey = undefined;
    this.agentMaterial = undefined;
  }
}

/** A keep-alive agent with the pool's settings (see the header) for the TLS material in `options`. */
export function pooledHttpsAgent(
  options: Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'>,
): https.Agent {
  const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = options;
  return new https.Agent({
    ca, cert, key, pfx, passphrase, rejectUnauthorized, servername,
    secureContext: tls.createSecureContext({ ca, cert, key, pfx, passphrase }),
    keepAlive: true, timeout: POOLED_SOCKET_TIMEOUT_MS,
    maxSockets: MAX_POOLED_CONNECTIONS, maxFreeSockets: MAX_POOLED_CONNECTIONS, scheduling: 'lifo',
  });
}

/** A KubeConfig loaded from `path` whose API calls share one keep-alive connection pool (and send `userAgent`). */
export function loadKubeConfig(path: string, pool?: AgentPool, userAgent?: string): KeepAliveKubeConfig {
  const config = new KeepAliveKubeConfig();
  if (pool) config.usePool(pool);
  config.userAgent = userAgent;
  config.loadFromFile(path);
  return config;
}
