// API server replicas on one etcd, run as an operator runs them: `kubefacade server --storage etcd`
// processes on free loopback ports. The first replica creates the PKI (CA, serving certificate,
// admin token) in its data dir; the others get a copy of that `pki` directory before they start,
// so one CA and one token serve them all and each replica's admin.kubeconfig differs only in URL.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCli, type CliProcess } from './cluster-processes.ts';

export interface Replica {
  name: string;
  dataDir: string;
  url: string;
  kubeconfigPath: string;
  process: CliProcess;
}

export interface Replicas {
  replicas: Replica[];
  /** Stops every replica still running and removes the data dirs. Safe to call twice. */
  stop(): Promise<void>;
}

async function startReplica(name: string, dataDir: string, endpoints: string[], prefix: string): Promise<Replica> {
  const child = startCli([
    'server', '--storage', 'etcd', '--etcd-servers', endpoints.join(','), '--etcd-prefix', prefix,
    '--data-dir', dataDir, '--port', '0',
  ]);
  const [, url] = await child.waitForOutput(/listening on (https:\/\/\S+)/);
  return { name, dataDir, url, kubeconfigPath: path.join(dataDir, 'admin.kubeconfig'), process: child };
}

export async function startReplicas(count: number, endpoints: string[], prefix = '/registry'): Promise<Replicas> {
  const dirs = Array.from({ length: count }, (_, i) => fs.mkdtempSync(path.join(os.tmpdir(), `kubefacade-replica-${i}-`)));
  const replicas: Replica[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(replicas.map((replica) => replica.process.kill('SIGKILL')));
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    replicas.push(await startReplica('replica-0', dirs[0], endpoints, prefix));
    for (const dir of dirs.slice(1)) fs.cpSync(path.join(dirs[0], 'pki'), path.join(dir, 'pki'), { recursive: true });
    replicas.push(...await Promise.all(dirs.slice(1).map((dir, i) => startReplica(`replica-${i + 1}`, dir, endpoints, prefix))));
  } catch (error) {
    await stop();
    throw error;
  }
  return { replicas, stop };
}
