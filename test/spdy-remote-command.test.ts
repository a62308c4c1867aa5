// The kubelet's RemoteCommand over SPDY/3.1 on its own: version negotiation as httpstream.Handshake does it, the
// resize messages as client-go writes them, and a session driven by a SPDY client (spdy-transport on the client
// side) — the streams it waits for, what each version writes on the error stream, half-closed stdin, resizes, and
// a client that goes away aborting the process.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import transport, { type SpdyConnection, type SpdyStream } from 'spdy-transport';
import {
  expectedStreamCount, negotiateRemoteCommandProtocol, ResizeMessageSplitter, serveSpdyRemoteCommand,
} from '../kubelet/streaming/spdy-remote-command.ts';
import type { RunCommand, StreamSelection, TerminalSize } from '../kubelet/streaming/remote-command.ts';
import { readAll } from '../kubelet/shell/io.ts';

function requestWith(versions: string[]): IncomingMessage {
  return { headersDistinct: versions.length > 0 ? { 'x-stream-protocol-version': versions } : {}, headers: {} } as unknown as IncomingMessage;
}

describe('X-Stream-Protocol-Version negotiation', () => {
  test('the first version the client lists that the kubelet serves wins, in one header or several', () => {
    assert.deepEqual(negotiateRemoteCommandProtocol(requestWith(['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io'])), { protocol: 'v4.channel.k8s.io' });
    assert.deepEqual(negotiateRemoteCommandProtocol(requestWith(['v2.channel.k8s.io, v4.channel.k8s.io'])), { protocol: 'v2.channel.k8s.io' });
    assert.deepEqual(negotiateRemoteCommandProtocol(requestWith(['channel.k8s.io'])), { protocol: 'channel.k8s.io' });
  });

  test('no version, or none in common, is refused with the Handshake wording', () => {
    assert.deepEqual(negotiateRemoteCommandProtocol(requestWith([])), { status: 400, message: 'unable to upgrade: X-Stream-Protocol-Version is required' });
    const refused = negotiateRemoteCommandProtocol(requestWith(['v5.channel.k8s.io', ' ', 'v9']));
    assert.ok('status' in refused);
    assert.equal(refused.status, 403);
    assert.equal(refused.message, 'unable to upgrade: unable to negotiate protocol: client supports [v5.channel.k8s.io v9], server accepts [v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io channel.k8s.io]');
  });

  test('the streams a request waits for: error, each one asked for, and resize for a TTY from v3 on', () => {
    const all: StreamSelection = { stdin: true, stdout: true, stderr: false, tty: true };
    assert.equal(expectedStreamCount('v4.channel.k8s.io', all), 4);
    assert.equal(expectedStreamCount('v3.channel.k8s.io', all), 4);
    assert.equal(expectedStreamCount('v2.channel.k8s.io', all), 3);
    assert.equal(expectedStreamCount('v4.channel.k8s.io', { stdin: false, stdout: true, stderr: true, tty: false }), 3);
  });
});

describe('resize messages', () => {
  test('objects split across chunks, back to back or newline-separated, come out whole; garbage is skipped', () => {
    const splitter = new ResizeMessageSplitter();
    assert.deepEqual(splitter.push('{"Width":80,'), []);
    assert.deepEqual(splitter.push('"Height":24}\n{"Width":100,"Height":30}{"Wid'), ['{"Width":80,"Height":24}', '{"Width":100,"Height":30}']);
    assert.deepEqual(splitter.push('th":1,"Height":2,"Note":"a } in a string"}'), ['{"Width":1,"Height":2,"Note":"a } in a string"}']);
    assert.deepEqual(splitter.push('xx {"Width":3,"Height":4}'), ['{"Width":3,"Height":4}']);
  });
});

interface Session {
  client: SpdyConnection;
  socket: net.Socket;
  /** The kubelet's end of the connection. */
  served: () => net.Socket | undefined;
  open(type: string): Promise<SpdyStream>;
  close(): void;
}

/** A kubelet side serving one SPDY RemoteCommand session on a loopback socket, and a SPDY client connected to it. */
async function session(protocol: string, streams: StreamSelection, run: RunCommand, streamCreationTimeoutMs?: number): Promise<Session> {
  let served: net.Socket | undefined;
  const server = net.createServer((socket) => {
    served = socket;
    serveSpdyRemoteCommand(socket, protocol, streams, run, streamCreationTimeoutMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  server.close();
  const client = transport.connection.create(socket, { protocol: 'spdy', isServer: false });
  client.start(3);
  client.on('error', () => undefined);
  return {
    client, socket, served: () => served,
    open: (type) => new Promise((resolve, reject) => {
      const stream = client.request({ method: 'POST', path: '/', headers: { streamtype: type } }, (error) => {
        if (error) reject(error);
      });
      stream.on('error', () => undefined);
      stream.once('response', () => resolve(stream));
    }),
    close: () => socket.destroy(),
  };
}

function collect(stream: SpdyStream): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => { text += chunk.toString(); });
    stream.on('end', () => resolve(text));
    stream.on('close', () => resolve(text));
  });
}

describe('a RemoteCommand session over SPDY', () => {
  test('v4: the command starts once every stream is there; stdin to its half-close; the exit Status as JSON', async () => {
    const sizes: TerminalSize[] = [];
    let started = false;
    const run: RunCommand = async (io, _signal, onResize) => {
      started = true;
      onResize((size) => sizes.push(size));
      const input = await readAll(io.stdin);
      io.stdout.write(`read ${input.length} bytes: ${input.toString()}`);
      io.stderr.write('to the terminal\n');
      return { exitCode: 2, argv: ['cat'] };
    };
    const { open, close } = await session('v4.channel.k8s.io', { stdin: true, stdout: true, stderr: true, tty: true }, run);
    try {
      const error = await open('error');
      const stdin = await open('stdin');
      const stdout = await open('stdout');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(started, false, 'with a TTY the command waits for the resize stream too (stderr is not expected)');
      const resize = await open('resize');
      const errorText = collect(error);
      const stdoutText = collect(stdout);
      resize.write('{"Width":120,"Height":40}\n');
      await new Promise((r) => setTimeout(r, 50));
      stdin.write('hello ');
      stdin.end('spdy');
      assert.equal(await stdoutText, 'read 10 bytes: hello spdyto the terminal\n');
      assert.deepEqual(JSON.parse(await errorText), {
        metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code: error executing command [cat], exit code 2',
        reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '2' }] },
      });
      assert.deepEqual(sizes, [{ width: 120, height: 40 }]);
    } finally {
      close();
    }
  });

  test('v4 success writes {"status":"Success"}; v2 writes nothing on success and only the message on failure', async () => {
    for (const [protocol, exitCode, expected] of [
      ['v4.channel.k8s.io', 0, '{"metadata":{},"status":"Success"}'],
      ['v2.channel.k8s.io', 0, ''],
      ['v2.channel.k8s.io', 7, 'command terminated with non-zero exit code: error executing command [false], exit code 7'],
      ['channel.k8s.io', 1, 'command terminated with non-zero exit code: error executing command [false], exit code 1'],
    ] as const) {
      const { open, close } = await session(protocol, { stdin: false, stdout: true, stderr: false, tty: false }, async (io) => {
        io.stdout.write('x');
        return { exitCode, argv: ['false'] };
      });
      try {
        const error = await open('error');
        const errorText = collect(error);
        const stdout = await open('stdout');
        assert.equal(await collect(stdout), 'x', protocol);
        assert.equal(await errorText, expected, `${protocol} exit ${exitCode}`);
      } finally {
        close();
      }
    }
  });

  test('a runtime failure is an InternalError Status', async () => {
    const { open, close } = await session('v4.channel.k8s.io', { stdin: false, stdout: true, stderr: false, tty: false }, async () => {
      throw new Error('boom');
    });
    try {
      const errorText = collect(await open('error'));
      await open('stdout');
      const status = JSON.parse(await errorText) as { reason: string; code: number; message: string };
      assert.equal(status.reason, 'InternalError');
      assert.equal(status.code, 500);
      assert.equal(status.message, 'Internal error occurred: error executing command in container: boom');
    } finally {
      close();
    }
  });

  test('an unknown stream type is accepted but does not count; the client going away aborts the process', async () => {
    let signal: AbortSignal | undefined;
    let startedResolve: () => void = () => undefined;
    const startedPromise = new Promise<void>((resolve) => { startedResolve = resolve; });
    const finished = new Promise<void>((resolve) => {
      void session('v4.channel.k8s.io', { stdin: true, stdout: true, stderr: false, tty: false }, async (io, s) => {
        signal = s;
        startedResolve();
        // Waits on stdin, which never ends while the client is there.
        await readAll(io.stdin);
        resolve();
        return { exitCode: 0, argv: ['cat'] };
      }).then(async ({ open, close }) => {
        await open('error');
        await open('bogus');
        await open('stdin');
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(signal, undefined, 'the bogus stream did not stand in for stdout');
        await open('stdout');
        await startedPromise;
        close();
      });
    });
    await finished;
    assert.equal(signal?.aborted, true);
  });

  test('a client that does not open every stream in time loses the connection; the command never runs', async () => {
    let ran = false;
    const { open, socket, close } = await session('v4.channel.k8s.io', { stdin: false, stdout: true, stderr: true, tty: false }, async () => {
      ran = true;
      return { exitCode: 0, argv: [] };
    }, 200);
    try {
      await open('error');
      await open('stdout');
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      assert.equal(ran, false);
    } finally {
      close();
    }
  });

  test('bytes that are not SPDY end that connection and abort its process, as spdystream drops a connection it cannot parse', async () => {
    let signal: AbortSignal | undefined;
    const started = new Promise<void>((resolve) => {
      void session('v4.channel.k8s.io', { stdin: false, stdout: true, stderr: false, tty: false }, async (_io, s) => {
        signal = s;
        resolve();
        await new Promise<void>((done) => s.addEventListener('abort', () => done()));
        return { exitCode: 0, argv: [] };
      }).then(async ({ open, socket }) => {
        await open('error');
        await open('stdout');
        await started;
        // A control frame of an unknown SPDY version with a length longer than what follows, then garbage.
        socket.write(Buffer.from([0x80, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef]));
      });
    });
    await started;
    const deadline = Date.now() + 5000;
    while (!signal?.aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(signal?.aborted, true);
  });

  test('stdin sent faster than the process reads is held back at the socket, then delivered whole', async () => {
    let pausedWhileIdle: boolean | undefined;
    let bytesReadWhileIdle = 0;
    let delivered = 0;
    let served: () => net.Socket | undefined = () => undefined;
    const { open, close, served: kubeletSide } = await session('v4.channel.k8s.io', { stdin: true, stdout: true, stderr: false, tty: false }, async (io) => {
      await new Promise((r) => setTimeout(r, 1000));
      pausedWhileIdle = served()?.isPaused();
      bytesReadWhileIdle = served()?.bytesRead ?? 0;
      delivered = (await readAll(io.stdin)).length;
      return { exitCode: 0, argv: [] };
    });
    served = kubeletSide;
    try {
      const errorText = collect(await open('error'));
      const stdin = await open('stdin');
      await open('stdout');
      const megabyte = Buffer.alloc(1024 * 1024, 0x78);
      for (let i = 0; i < 32; i++) stdin.write(megabyte);
      stdin.end();
      assert.equal(await errorText, '{"metadata":{},"status":"Success"}');
      assert.equal(pausedWhileIdle, true);
      assert.ok(bytesReadWhileIdle < 12 * 1024 * 1024, `read ${bytesReadWhileIdle} bytes while the process read none`);
      assert.equal(delivered, 32 * 1024 * 1024);
    } finally {
      close();
    }
  });
});
