// Writes kubeconfig files (clientcmd's v1 Config) for kubectl and @kubernetes/client-node users.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigTokenUser {
  name: string;
  token: string;
}

export interface KubeconfigCertificateUser {
  name: string;
  clientCertificatePem: string;
  clientKeyPem: string;
}

export type KubeconfigUser = KubeconfigTokenUser | KubeconfigCertificateUser;

export interface KubeconfigOptions {
  clusterName: string;
  /** e.g. https://127.0.0.1:6443 */
  server: string;
  caCertPem: string;
  users: KubeconfigUser[];
  /** The user of the current context; one context `<user>@<cluster>` is written per user. */
  contextUser: string;
  /** Default namespace of each context (omitted: kubectl uses `default`). */
  namespace?: string;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function contextName(user: string, cluster: string): string {
  return `${user}@${cluster}`;
}

export function renderKubeconfig(options: KubeconfigOptions): string {
  if (!options.users.some((user) => user.name === options.contextUser)) {
    throw new Error(`kubeconfig: context user "${options.contextUser}" is not among the users`);
  }
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{
      name: options.clusterName,
      cluster: {
        server: options.server,
        'certificate-authority-data': base64(options.caCertPem),
      },
    }],
    users: options.users.map((user) => ({
      name: user.name,
      user: 'token' in user
        ? { token: user.token }
        : {
          'client-certificate-data': base64(user.clientCertificatePem),
          'client-key-data': base64(user.clientKeyPem),
        },
    })),
    contexts: options.users.map((user) => ({
      name: contextName(user.name, options.clusterName),
      context: {
        cluster: options.clusterName,
        user: user.name,
        ...(options.namespace ? { namespace: options.namespace } : {}),
      },
    })),
    'current-context': contextName(options.contextUser, options.clusterName),
  };
  return stringify(config, { lineWidth: 0 });
}

/**
 * Renders and writes a kubeconfig with mode 0600 (it holds credentials), creating the parent directory.
 * The file is replaced atomically (write a sibling, then rename): clients that read it while a
 * restarting server rewrites it see the old or the new file, never a truncated one.
 */
export async function writeKubeconfig(file: string, options: KubeconfigOptions): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, renderKubeconfig(options), { mode: 0o600 });
  await fs.chmod(temporary, 0o600);
  await fs.rename(temporary, file);
}
