// Starting the API server: PKI and admin credential in the data dir, storage (LevelDB behind the
// watch cache), the registry of built-in resources, the default namespaces, HTTPS, and the admin
// kubeconfig that kubectl and client-node use as is.

import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { StatusError } from '../api/errors.ts';
import { ApiRegistry } from '../api/registry/registry.ts';
import { NamespaceCleanup } from '../api/registry/namespace-cleanup.ts';
import { ADMIN_SYSTEM_USER } from '../api/registry/system-user.ts';
import { builtinResources } from '../api/resources/index.ts';
import { ADMIN_USER, ensureAdminToken } from '../auth/admin-credential.ts';
import { ensurePki } from '../auth/pki.ts';
import { StaticTokenAuthenticator } from '../auth/token-authenticator.ts';
import { openStorage } from '../storage/index.ts';
import type { Storage } from '../storage/interface.ts';
import { createApp, type RequestLogger } from './app.ts';
import { CORE_BINDINGS_RESOURCE, DiscoveryDocuments, discoveryResourceFromStrategy } from './discovery.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { SubresourceHandlers, namespaceFinalizeHandler, podBindingHandler, podLogHandler } from './subresources.ts';

export interface ApiServerOptions {
  dataDir: string;
  bind: string;
  port: number;
  tlsSans: string[];
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** One line per request; omit for silence (tests). */
  log?: RequestLogger;
  /** Least time between periodic watch bookmarks (kube-apiserver: about a minute). */
  bookmarkIntervalMs?: number;
}

export interface RunningApiServer {
  url: string;
  port: number;
  adminKubeconfigPath: string;
  /** Admin bearer token (also in the kubeconfig). */
  adminToken: string;
  caCertPem: string;
  close(): Promise<void>;
}

export const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const pki = await ensurePki(join(dataDir, 'pki'), { sans: options.tlsSans, certFile: options.tlsCertFile, keyFile: options.tlsPrivateKeyFile });
  const adminToken = await ensureAdminToken(dataDir);
  const storage = await openStorage({ kind: 'leveldb', dataDir });
  try {
    const registry = new ApiRegistry(builtinResources, storage);
    await ensureDefaultNamespaces(registry);

    const subresources = new SubresourceHandlers();
    subresources.register('', 'pods', 'binding', podBindingHandler());
    subresources.register('', 'pods', 'log', podLogHandler(() => registry.lookup('', 'v1', 'nodes')));
    subresources.register('', 'namespaces', 'finalize', namespaceFinalizeHandler());

    const server = createServer({ cert: pki.servingCertPem, key: pki.servingKeyPem });
    const sockets = new Set<Socket>();
    server.on('secureConnection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await listen(server, options.port, options.bind);
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const host = clientHost(options.bind);
    const url = `https://${host}:${port}`;

    const discovery = new DiscoveryDocuments(
      [...builtinResources.map(discoveryResourceFromStrategy), CORE_BINDINGS_RESOURCE],
      { serverAddress: `${host}:${port}` },
    );
    const app = createApp({
      registry,
      authenticator: new StaticTokenAuthenticator([{ token: adminToken, user: ADMIN_USER }]),
      discovery,
      subresources,
      log: options.log,
      handler: {
        maxRequestBodyBytes: MAX_REQUEST_BODY_BYTES,
        bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
        minRequestTimeoutSeconds: 1800,
        watchMaxBufferedBytes: 16 * 1024 * 1024,
      },
    });
    server.on('request', app);

    const adminKubeconfigPath = join(dataDir, 'admin.kubeconfig');
    await writeKubeconfig(adminKubeconfigPath, {
      clusterName: 'kubefacade',
      server: url,
      caCertPem: pki.caCertPem,
      users: [{ name: 'kubernetes-admin', token: adminToken }],
      contextUser: 'kubernetes-admin',
    });

    const cleanup = new NamespaceCleanup(registry);
    cleanup.start();

    let closed = false;
    return {
      url, port, adminKubeconfigPath, adminToken, caCertPem: pki.caCertPem,
      async close() {
        if (closed) return;
        closed = true;
        cleanup.stop();
        await new Promise<void>((done) => {
          server.close(() => done());
          for (const socket of sockets) socket.destroy();
        });
        await storage.close();
      },
    };
  } catch (err) {
    await storage.close();
    throw err;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
}

/** The host clients should dial: a wildcard bind is reached over loopback. */
function clientHost(bind: string): string {
  if (bind === '0.0.0.0' || bind === '') return '127.0.0.1';
  if (bind === '::') return '[::1]';
  return bind.includes(':') ? `[${bind}]` : bind;
}

async function ensureDefaultNamespaces(registry: ApiRegistry): Promise<void> {
  const namespaces = registry.lookup('', 'v1', 'namespaces');
  if (!namespaces) return;
  for (const name of DEFAULT_NAMESPACES) {
    try {
      await namespaces.create(
        { user: ADMIN_SYSTEM_USER, namespace: '', now: new Date() },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
        { dryRun: false, fieldValidation: 'Strict' },
      );
    } catch (err) {
      if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
    }
  }
}

export type { Storage };
