// Reads the server address and credentials a benchmark client needs from a kubeconfig, the way
// kubectl picks them: the current context's cluster and user. Token and client-certificate users
// are both understood, so the bench keeps working whichever credential the admin kubeconfig holds.

import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

export interface ClientTarget {
  /** https://host:port */
  server: string;
  caPem: string;
  token?: string;
  certPem?: string;
  keyPem?: string;
}

function pick(list: unknown, name: string, field: string): Record<string, unknown> {
  const entries = Array.isArray(list) ? (list as Record<string, unknown>[]) : [];
  const entry = entries.find((item) => item.name === name);
  const value = entry?.[field];
  if (!value || typeof value !== 'object') throw new Error(`kubeconfig: no ${field} named "${name}"`);
  return value as Record<string, unknown>;
}

function decoded(data: unknown): string | undefined {
  return typeof data === 'string' ? Buffer.from(data, 'base64').toString('utf8') : undefined;
}

async function fileOrData(data: unknown, file: unknown): Promise<string | undefined> {
  if (typeof data === 'string') return decoded(data);
  if (typeof file === 'string') return readFile(file, 'utf8');
  return undefined;
}

export async function readClientTarget(kubeconfigPath: string): Promise<ClientTarget> {
  const config = parse(await readFile(kubeconfigPath, 'utf8')) as Record<string, unknown>;
  const contextName = String(config['current-context'] ?? '');
  const context = pick(config.contexts, contextName, 'context');
  const cluster = pick(config.clusters, String(context.cluster), 'cluster');
  const user = pick(config.users, String(context.user), 'user');
  const caPem = await fileOrData(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (!caPem) throw new Error('kubeconfig: the cluster has no certificate authority');
  return {
    server: String(cluster.server),
    caPem,
    token: typeof user.token === 'string' ? user.token : undefined,
    certPem: await fileOrData(user['client-certificate-data'], user['client-certificate']),
    keyPem: await fileOrData(user['client-key-data'], user['client-key']),
  };
}
