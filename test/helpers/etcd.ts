// Real etcd for tests: one member or a small cluster on free loopback ports, each member in its own
// temp data dir. The etcd binary must be installed (scripts/ensure-etcd.sh does it on Debian): a
// missing binary fails the test run loudly instead of skipping, so CI cannot pass without etcd.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Etcd3 } from 'etcd3';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  dataDir: string;
  process: ChildProcess;
  /** Output so far, for failure messages. */
  log(): string;
}

export interface EtcdCluster {
  /** Client URLs of every member, in member order. */
  endpoints: string[];
  members: EtcdMember[];
  /** SIGKILLs one member (it stays down). */
  kill(index: number): Promise<void>;
  /** Index of the member that is currently the raft leader. */
  leader(): Promise<number>;
  /** Kills every member and removes their data dirs. Safe to call twice. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A crashed test run must not leave etcd processes behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** The etcd binary, or a thrown error that says how to install it. */
export function etcdBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' });
  const binary = found.stdout.trim();
  if (found.status !== 0 || !binary) {
    throw new Error('etcd is not installed: the etcd tests need it (run scripts/ensure-etcd.sh, or apt-get install etcd-server)');
  }
  return binary;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts `size` members with a static --initial-cluster and waits until the cluster serves requests. */
export async function startEtcdCluster(size = 1): Promise<EtcdCluster> {
  const binary = etcdBinary();
  const token = `kubefacade-test-${randomBytes(4).toString('hex')}`;
  const specs: { name: string; clientPort: number; peerPort: number; dataDir: string }[] = [];
  for (let i = 0; i < size; i++) {
    specs.push({
      name: `m${i}`, clientPort: await freePort(), peerPort: await freePort(),
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), `kubefacade-etcd-m${i}-`)),
    });
  }
  const initialCluster = specs.map((spec) => `${spec.name}=http://127.0.0.1:${spec.peerPort}`).join(',');
  const members: EtcdMember[] = specs.map((spec) => {
    const clientUrl = `http://127.0.0.1:${spec.clientPort}`;
    const peerUrl = `http://127.0.0.1:${spec.peerPort}`;
    const child = spawn(binary, [
      '--name', spec.name, '--data-dir', spec.dataDir,
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', token,
      '--logger', 'zap', '--log-level', 'error',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.on('exit', () => running.delete(child));
    let output = '';
    const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-8_000); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    return { name: spec.name, clientUrl, dataDir: spec.dataDir, process: child, log: () => output };
  });

  let stopped = false;
  const cluster: EtcdCluster = {
    endpoints: members.map((member) => member.clientUrl),
    members,
    async kill(index) {
      await killAndWait(members[index].process);
    },
    async leader() {
      const ids = await Promise.all(members.map(async (member) => {
        if (member.process.exitCode !== null || member.process.signalCode !== null) return { id: '', leader: '' };
        const client = new Etcd3({ hosts: member.clientUrl });
        try {
          const status = await client.maintenance.status();
          return { id: status.header.member_id, leader: status.leader };
        } finally {
          client.close();
        }
      }));
      const leaderId = ids.find((entry) => entry.leader)?.leader;
      const index = ids.findIndex((entry) => entry.id === leaderId);
      if (index < 0) throw new Error('no etcd member reports a leader');
      return index;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(members.map((member) => killAndWait(member.process)));
      for (const member of members) fs.rmSync(member.dataDir, { recursive: true, force: true });
    },
  };
  try {
    await waitUntilServing(cluster);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** A write through every member succeeds only once the members found each other and elected a leader. */
async function waitUntilServing(cluster: EtcdCluster): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (const member of cluster.members) {
    const client = new Etcd3({ hosts: member.clientUrl });
    try {
      for (;;) {
        if (member.process.exitCode !== null) throw new Error(`etcd member ${member.name} exited:\n${member.log()}`);
        try {
          await client.put('/kubefacade-test/health').value(member.name);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw new Error(`etcd member ${member.name} did not start: ${String(error)}\n${member.log()}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    } finally {
      client.close();
    }
  }
}
