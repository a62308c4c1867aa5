// exec, attach and cp over SPDY/3.1 end to end: the real kubectl 1.29 (SPDY is its only RemoteCommand transport), the
// dispatcher kubectl with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false and, briefly, kubectl 1.27, against an API server that proxies the SPDY
// upgrade to one simulated node's kubelet. A missing kubectl binary or script(1) fails the suite.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startApiServer } from '../server/start.ts';
import { runKubelets, type RunningKubelets } from '../kubelet/index.ts';

const quiet = { info: () => undefined, warn: () => undefined };
const KUBECTL_1_27 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.27';
const KUBECTL_1_29 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.29';
const DISPATCHER = '/usr/bin/kubectl';
/** Each client, and the environment that makes it speak SPDY for exec, attach and cp. */
const CLIENTS: { name: string; binary: string; env: Record<string, string> }[] = [
  { name: 'kubectl 1.29', binary: KUBECTL_1_29, env: {} },
  { name: 'kubectl (dispatcher) with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false', binary: DISPATCHER, env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } },
];

interface Run { stdout: string; stderr: string; code: number | null }

describe('exec, attach and cp over SPDY/3.1', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let kubelets: RunningKubelets;
  let core: CoreV1Api;

  function kubectl(binary: string, env: Record<string, string>, args: string[], options: { input?: string; timeoutMs?: number; tty?: boolean } = {}): Promise<Run> {
    const argv = ['--kubeconfig', server.adminKubeconfigPath, '--cache-dir', join(dir, 'cache'), ...args];
    const childEnv = { ...process.env, ...env };
    return new Promise((resolve) => {
      // With a TTY, kubectl runs under script(1), which gives it a pseudo-terminal; input is typed into it.
      const child = options.tty
        ? spawn('script', ['-qec', [binary, ...argv].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '), '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: childEnv })
        : spawn(binary, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: childEnv });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
      child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ stdout, stderr, code });
      });
      if (!options.tty) child.stdin.end(options.input ?? '');
      else if (options.input !== undefined) {
        // Typed one line at a time, as a person would once the prompt is there.
        const lines = options.input.split('\r');
        let index = 0;
        const typeNext = (): void => {
          if (index >= lines.length) return;
          const line = lines[index++];
          if (line || index < lines.length) child.stdin.write(index < lines.length ? `${line}\r` : line);
          setTimeout(typeNext, 400);
        };
        setTimeout(typeNext, 1500);
      }
    });
  }

  async function waitFor(name: string, ready: (pod: Awaited<ReturnType<CoreV1Api['readNamespacedPod']>>) => boolean): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const pod = await core.readNamespacedPod({ namespace: 'default', name });
      if (ready(pod)) return;
      if (Date.now() > deadline) assert.fail(`pod ${name} did not get ready: ${JSON.stringify(pod.status)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** An upgrade request straight to the API server, as client-go's SPDY round tripper sends it; resolves with the reply. */
  async function spdyUpgrade(path: string, protocols: string[]): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    const config = new KubeConfig();
    config.loadFromFile(server.adminKubeconfigPath);
    const url = new URL(path, config.getCurrentCluster()!.server);
    const options: RequestOptions = {
      host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols },
    };
    await config.applyToHTTPSOptions(options);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(options);
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  before(async () => {
    for (const binary of [KUBECTL_1_27, ...CLIENTS.map((client) => client.binary)]) {
      if (!existsSync(binary)) throw new Error(`these tests need ${binary}`);
    }
    if (spawnSync('script', ['--version']).error) throw new Error('these tests need script(1) (util-linux) for a TTY');
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-exec-spdy-'));
    await mkdir(join(dir, 'cache'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    kubelets = await runKubelets({
      kubeconfigPath: server.adminKubeconfigPath, nodeCount: 1, kubeletPort: 0, imagePullDelayMs: 20, stepDelayMs: 5,
      stopDelayMs: 20, leaseRenewIntervalMs: 200, statusUpdateIntervalMs: 200, logger: quiet,
    });
    const config = new KubeConfig();
    config.loadFromFile(server.adminKubeconfigPath);
    core = config.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'web', labels: { app: 'web' } },
        spec: {
          // No scheduler runs here: the pod is bound to the one node directly.
          nodeName: 'node01',
          // The init container has finished by the time the pod runs: exec into it finds no running container.
          initContainers: [{ name: 'setup', image: 'busybox', command: ['sh', '-c', 'echo ready'] }],
          containers: [{
            name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }],
            env: [
              { name: 'GREETING', value: 'hello' },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ],
            volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
          }, { name: 'shell', image: 'busybox', command: ['sh'], stdin: true, tty: true }],
          volumes: [{ name: 'scratch', emptyDir: {} }],
        },
      },
    });
    await waitFor('web', (pod) => pod.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).every((c) => c.state?.running) === true);
  });

  after(async () => {
    await kubelets?.stop();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const { name, binary, env } of CLIENTS) {
    const tag = name.split(' ').slice(0, 2).join(' ');
    test(`${name}: exec -- env shows the container's environment`, async () => {
      const run = await kubectl(binary, env, ['exec', 'web', '-c', 'nginx', '--', 'env']);
      assert.equal(run.code, 0, run.stderr);
      const vars = new Map(run.stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      assert.equal(vars.get('HOSTNAME'), 'web');
      assert.equal(vars.get('GREETING'), 'hello');
      assert.equal(vars.get('POD_NAME'), 'web');
    });

    test(`${name}: a non-zero exit code reaches kubectl's exit status`, async () => {
      const run = await kubectl(binary, env, ['exec', 'web', '-c', 'nginx', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
      assert.equal(run.stdout, 'out\n');
      assert.match(run.stderr, /^err\n/);
      assert.match(run.stderr, /command terminated with exit code 3/);
      assert.equal(run.code, 3);
      const missing = await kubectl(binary, env, ['exec', 'web', '-c', 'nginx', '--', 'frobnicate']);
      assert.equal(missing.code, 127);
    });

    test(`${name}: exec -i reads stdin to its end (the client's half-close)`, async () => {
      const input = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n';
      const run = await kubectl(binary, env, ['exec', '-i', 'web', '-c', 'nginx', '--', 'sh', '-c', `cat > /scratch/${tag.replace(/\W/g, '')}.txt; tail -n 1 /scratch/${tag.replace(/\W/g, '')}.txt`], { input });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, 'line 1999\n');
    });

    test(`${name}: exec -it runs an interactive shell on a TTY`, async () => {
      const run = await kubectl(binary, env, ['exec', '-it', 'web', '-c', 'nginx', '--', 'sh'], { tty: true, input: 'echo typed $HOSTNAME\recho oops >&2\rexit 4\r' });
      assert.match(run.stdout, /\/ # echo typed \$HOSTNAME\r\ntyped web\r\n/);
      // With a TTY, stderr is the terminal.
      assert.match(run.stdout, /\r\noops\r\n/);
      assert.equal(run.code, 4, run.stdout + run.stderr);
    });

    test(`${name}: attach follows the output; attach -it talks to the shell`, async () => {
      const follow = await kubectl(binary, env, ['attach', 'web', '-c', 'nginx'], { timeoutMs: 3000 });
      assert.match(follow.stdout, /simulated container "nginx" \(image nginx:1\.27\) started/);
      const shell = await kubectl(binary, env, ['attach', '-it', 'web', '-c', 'shell'], { tty: true, input: 'echo attached over spdy\rexit\r' });
      assert.match(shell.stdout, /attached over spdy\r\n/, shell.stdout + shell.stderr);
    });

    test(`${name}: cp in both directions, larger than one SPDY window`, async () => {
      const slug = tag.replace(/\W/g, '');
      const local = join(dir, `${slug}-upload.bin`);
      // 300 KiB: more than the 64 KiB a stream may carry before a peer that does flow control asks for more.
      const content = Buffer.from(Array.from({ length: 300 * 1024 }, (_, i) => 'abcdefghijklmnopqrstuvwxyz\n'[i % 27]).join(''));
      await writeFile(local, content);
      const up = await kubectl(binary, env, ['cp', local, `web:/scratch/${slug}.bin`, '-c', 'nginx']);
      assert.equal(up.code, 0, up.stderr);
      const size = await kubectl(binary, env, ['exec', 'web', '-c', 'nginx', '--', 'ls', '-l', `/scratch/${slug}.bin`]);
      assert.match(size.stdout, new RegExp(` ${content.length} `));
      const back = join(dir, `${slug}-back.bin`);
      const down = await kubectl(binary, env, ['cp', `web:/scratch/${slug}.bin`, back, '-c', 'nginx']);
      assert.equal(down.code, 0, down.stderr);
      assert.ok((await readFile(back)).equals(content), 'the file comes back byte for byte');
      const tree = join(dir, `${slug}-tree`);
      await mkdir(join(tree, 'sub'), { recursive: true });
      await writeFile(join(tree, 'sub', 'a.txt'), 'A');
      assert.equal((await kubectl(binary, env, ['cp', tree, 'web:/tmp/tree', '-c', 'nginx'])).code, 0);
      const treeBack = join(dir, `${slug}-tree-back`);
      assert.equal((await kubectl(binary, env, ['cp', 'web:/tmp/tree', treeBack, '-c', 'nginx'])).code, 0);
      assert.equal(await readFile(join(treeBack, 'sub', 'a.txt'), 'utf8'), 'A');
    });

    test(`${name}: a container not in the pod, and one not running, get upstream's errors`, async () => {
      const wrong = await kubectl(binary, env, ['exec', 'web', '-c', 'nope', '--', 'env']);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /Error from server \(BadRequest\): container nope is not valid for pod web/);
      const finished = await kubectl(binary, env, ['exec', 'web', '-c', 'setup', '--', 'env']);
      assert.equal(finished.code, 1);
      assert.match(finished.stderr, /unable to upgrade connection: container not found \("setup"\)/);
    });
  }

  test('kubectl 1.27: exec and a cp round trip over SPDY', async () => {
    const run = await kubectl(KUBECTL_1_27, {}, ['exec', 'web', '-c', 'nginx', '--', 'sh', '-c', 'hostname; exit 2']);
    assert.equal(run.stdout, 'web\n');
    assert.equal(run.code, 2, run.stderr);
    const local = join(dir, '127-upload.txt');
    await writeFile(local, 'from 1.27\n');
    assert.equal((await kubectl(KUBECTL_1_27, {}, ['cp', local, 'web:/tmp/127.txt', '-c', 'nginx'])).code, 0);
    const back = join(dir, '127-back.txt');
    assert.equal((await kubectl(KUBECTL_1_27, {}, ['cp', 'web:/tmp/127.txt', back, '-c', 'nginx'])).code, 0);
    assert.equal(await readFile(back, 'utf8'), 'from 1.27\n');
  });

  test('the kubelet negotiates X-Stream-Protocol-Version as httpstream.Handshake does (through the API server)', async () => {
    const path = '/api/v1/namespaces/default/pods/web/exec?container=nginx&command=true&stdout=true';
    const refused = await spdyUpgrade(path, ['v9.channel.k8s.io', 'v5.channel.k8s.io']);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.trim(), 'unable to upgrade: unable to negotiate protocol: client supports [v9.channel.k8s.io v5.channel.k8s.io], server accepts [v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io channel.k8s.io]');
    assert.equal(refused.headers['x-accepted-stream-protocol-versions'], 'v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io');
    const none = await spdyUpgrade(path, []);
    assert.equal(none.status, 400);
    assert.equal(none.body.trim(), 'unable to upgrade: X-Stream-Protocol-Version is required');
    // The client's first supported version wins.
    const accepted = await spdyUpgrade(path, ['v5.channel.k8s.io', 'v2.channel.k8s.io, v4.channel.k8s.io']);
    assert.equal(accepted.status, 101);
    assert.equal(accepted.headers['x-stream-protocol-version'], 'v2.channel.k8s.io');
    assert.equal(accepted.headers.upgrade, 'SPDY/3.1');
  });
});
