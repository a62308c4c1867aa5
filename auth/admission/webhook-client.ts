// Calling an admission (or conversion) webhook: one POST of a review object over HTTPS, through a
// keep-alive agent kept per webhook and CA bundle (so a webhook costs one round trip, not a TLS
// handshake, per request), with the caBundle as the only trusted CA when given, the webhook's
// timeout, and errors worded as kube-apiserver's webhook client words them.
//
// clientConfig.url is used as is. clientConfig.service is resolved to the loopback interface at
// the service's port, with TLS verified for `<name>.<namespace>.svc` (services and their endpoints
// are not served by this process): a webhook run by the test or the developer on the same machine.

import { createHash } from 'node:crypto';
import { Agent, request } from 'node:https';
import { isIP } from 'node:net';

export interface WebhookClientConfig {
  url?: string;
  service?: { namespace: string; name: string; path?: string; port?: number };
  caBundle?: string;
}

export class WebhookCallError extends Error {}

interface Endpoint {
  /** The URL kube-apiserver would name in its errors. */
  displayUrl: string;
  host: string;
  port: number;
  path: string;
  servername: string;
}

function endpointOf(config: WebhookClientConfig, timeoutSeconds: number): Endpoint {
  const timeout = `timeout=${timeoutSeconds}s`;
  if (config.url) {
    const url = new URL(config.url);
    const path = `${url.pathname}${url.search ? `${url.search}&` : '?'}${timeout}`;
    return {
      displayUrl: `${url.origin}${path}`, host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 443), path,
      servername: url.hostname.replace(/^\[|\]$/g, ''),
    };
  }
  const service = config.service!;
  const port = service.port ?? 443;
  const host = `${service.name}.${service.namespace}.svc`;
  const path = `${service.path ?? '/'}?${timeout}`;
  return { displayUrl: `https://${host}:${port}${path}`, host: '127.0.0.1', port, path, servername: host };
}

const agents = new Map<string, Agent>();

function agentFor(key: string, config: WebhookClientConfig): Agent {
  const id = `${key}|${createHash('sha256').update(config.caBundle ?? '').digest('hex').slice(0, 16)}`;
  let agent = agents.get(id);
  if (!agent) {
    const ca = config.caBundle ? Buffer.from(config.caBundle, 'base64').toString('utf8') : undefined;
    agent = new Agent({ keepAlive: true, keepAliveMsecs: 30_000, maxSockets: 64, ...(ca ? { ca } : {}) });
    agents.set(id, agent);
  }
  return agent;
}

/** Drops the agents of a configuration that changed or went away. */
export function forgetWebhookAgents(keyPrefix: string): void {
  for (const [id, agent] of agents) {
    if (id.startsWith(keyPrefix)) {
      agent.destroy();
      agents.delete(id);
    }
  }
}

function describeNetworkError(error: NodeJS.ErrnoException, endpoint: Endpoint): string {
  const target = `${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
  switch (error.code) {
    case 'ECONNREFUSED': return `dial tcp ${target}: connect: connection refused`;
    case 'ENOTFOUND': return `dial tcp: lookup ${endpoint.host}: no such host`;
    case 'ECONNRESET': return 'EOF';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: certificate is not valid for ${endpoint.servername}`;
    default: return error.message;
  }
}

/**
 * POSTs `body` and returns the parsed JSON answer. Throws WebhookCallError with the text after
 * `failed calling webhook "<name>": `.
 */
export function callWebhook(key: string, config: WebhookClientConfig, timeoutSeconds: number, body: unknown): Promise<unknown> {
  const endpoint = endpointOf(config, timeoutSeconds);
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      reject(new WebhookCallError(message));
    };
    const req = request({
      host: endpoint.host, port: endpoint.port, path: endpoint.path, method: 'POST',
      // SNI takes host names only; an IP address is verified against the certificate's IP SANs.
      ...(isIP(endpoint.servername) ? {} : { servername: endpoint.servername }),
      agent: agentFor(key, config),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, */*', 'Content-Length': payload.length, Host: `${endpoint.servername}:${endpoint.port}` },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (error) => fail(`failed to call webhook: Post "${endpoint.displayUrl}": ${error.message}`));
      res.on('end', () => {
        if (settled) return;
        const text = Buffer.concat(chunks).toString('utf8');
        const code = res.statusCode ?? 0;
        if (code < 200 || code >= 300) {
          fail(`failed to call webhook: an error on the server (${JSON.stringify(text.trim().slice(0, 200))}) has prevented the request from succeeding`);
          return;
        }
        try {
          const parsed: unknown = JSON.parse(text);
          settled = true;
          resolve(parsed);
        } catch (error) {
          fail(`received invalid webhook response: ${(error as Error).message}`);
        }
      });
    });
    req.setTimeout(timeoutSeconds * 1000, () => {
      fail(`failed to call webhook: Post "${endpoint.displayUrl}": context deadline exceeded`);
      req.destroy();
    });
    req.on('error', (error: NodeJS.ErrnoException) => fail(`failed to call webhook: Post "${endpoint.displayUrl}": ${describeNetworkError(error, endpoint)}`));
    req.end(payload);
  });
}
