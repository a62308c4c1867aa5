// Shared by the API clients (scheduler, kubelets, controllers); like them it imports nothing from server/ or storage/.
//
// client-node 1.x builds a new https.Agent, without keep-alive, for every API call (KubeConfig.applySecurityAuthentication
// → createAgent), so each call pays a TCP and TLS handshake on both ends and the server answers `Connection: close`.
// A kubelet process with dozens of nodes makes hundreds of calls a second; the handshakes, not the API server, become
// the limit (measured: ~3x fewer writes/s). This KubeConfig hands every call one shared keep-alive agent instead, built
// from the very options client-node derived, so TLS verification and client certificates are unchanged.
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];

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
  /** Where this config's agents come from (its own unless loadKubeConfig was given a shared one). */
  pool = new AgentPool();
  private sharedPool = false;

  /** Draw connections from `pool` (shared with other configs) instead of a private one. */
  usePool(pool: AgentPool): this {
    this.pool = pool;
    this.sharedPool = true;
    return this;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getAgent();
    // Proxies and plain HTTP keep client-node's own agent.
    if (!(fresh instanceof https.Agent) || fresh.constructor !== https.Agent) return;
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = fresh.options;
    // Rebuilt if the TLS material changes (e.g. a rotated client certificate read from a file).
    const agentKey = JSON.stringify([ca, cert, key, pfx, passphrase, rejectUnauthorized, servername].map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : v)));
    if (!this.agent || this.agentKey !== agentKey) {
      if (this.agentKey !== undefined && !this.sharedPool) this.pool.forget(this.agentKey);
      this.agent = this.pool.agentFor(agentKey, () => new https.Agent({ ca, cert, key, pfx, passphrase, rejectUnauthorized, servername, keepAlive: true }));
      this.agentKey = agentKey;
    }
    context.setAgent(this.agent);
  }

  /** Closes the pooled connections (idle ones would otherwise linger until the server times them out). */
  closeConnections(): void {
    this.pool.destroy();
    this.agent = undefined;
    this.agentKey = undefined;
  }
}

/** A KubeConfig loaded from `path` whose API calls share one keep-alive connection pool. */
export function loadKubeConfig(path: string, pool?: AgentPool): KeepAliveKubeConfig {
  const config = new KeepAliveKubeConfig();
  if (pool) config.usePool(pool);
  config.loadFromFile(path);
  return config;
}
