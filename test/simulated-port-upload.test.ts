// A simulated containerPort reads request bodies as they stream in (port-forward uploads): the body is dropped
// chunk by chunk, never buffered whole, the answer comes once the last byte has arrived, and a request pipelined
// after it in the same chunk is answered too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedConnection } from '../kubelet/streaming/simulated-port.ts';

const owner = { namespace: 'default', pod: 'web', container: 'app', image: 'example/app:1', port: 8080, protocol: 'TCP' };

test('a large upload is answered once, after its last byte, and the next request too', () => {
  const replies: string[] = [];
  let closed = false;
  const connection = new SimulatedConnection(owner, (data) => replies.push(data.toString('latin1')), () => { closed = true; });
  const size = 4 * 1024 * 1024;
  connection.receive(Buffer.from(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`, 'latin1'));
  const chunk = Buffer.alloc(32 * 1024, 0x61);
  for (let sent = 0; sent < size - chunk.length; sent += chunk.length) connection.receive(chunk);
  assert.equal(replies.length, 0, 'no answer before the body is complete');
  // The body's last chunk with a pipelined GET behind it.
  connection.receive(Buffer.concat([chunk, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1')]));
  assert.equal(replies.length, 2);
  assert.match(replies[0], /^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: keep-alive\r\n\r\nkubefacade simulated container\npod: default\/web/);
  assert.match(replies[1], /Connection: close\r\n/);
  assert.ok(closed, 'Connection: close ends the connection');
});
