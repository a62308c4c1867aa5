import { startTestServer, json, podManifest } from '../test/helpers/api-server.ts';
import { request } from 'node:https';
const t = await startTestServer('probe');
const pods = '/api/v1/namespaces/default/pods';
await json(t.call('post', pods), podManifest('p1'));
const r = await t.call('get', '/api/v1/namespaces/default/pods/%zz');
console.log('escape', r.status, r.text);
const long = await t.call('get', `${pods}?labelSelector=${'a'.repeat(17000)}`).catch((e) => ({ status: 'ERR ' + e.message, text: '' }));
console.log('long', long.status, long.text);
const name = await json(t.call('patch', `${pods}/p1`), { metadata: { name: 'other' } }, 'application/merge-patch+json');
console.log('rename', name.status, name.body.message);
const nokind = await json(t.call('post', pods), { apiVersion: 'v1', metadata: { name: 'nk' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
console.log('nokind', nokind.status, nokind.body.kind, (await t.call('get', `${pods}/nk`)).body.kind);
const ts = await json(t.call('post', pods), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ts', creationTimestamp: 'garbage' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
console.log('ts', ts.status, ts.body.message ?? ts.body.metadata?.creationTimestamp);
for (let i = 0; i < 15; i++) await json(t.call('patch', `${pods}/p1?fieldManager=m${i}`), { metadata: { labels: { [`l${i}`]: 'x' } } }, 'application/merge-patch+json');
const mf = (await t.call('get', `${pods}/p1`)).body.metadata.managedFields;
console.log('managedFields', mf.length, mf.map((m: any) => m.manager).join(','));
const int = await json(t.call('post', pods), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'int' }, spec: { priority: 2147483648, terminationGracePeriodSeconds: 99999999999999999999, containers: [{ name: 'c', image: 'i' }] } });
console.log('int', int.status, int.body.message);
// chunked > 3 MiB
const res = await new Promise<string>((resolve) => {
  const req = request(`${t.url}${pods}`, { method: 'POST', ca: t.server.caCertPem, headers: { Authorization: `Bearer ${t.server.adminToken}`, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } }, (res) => {
    let body = ''; res.on('data', (c) => body += c); res.on('end', () => resolve(`${res.statusCode} ${body}`));
  });
  req.on('error', (e) => resolve('ERR ' + e.message));
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let sent = 0;
  const pump = () => { while (sent < 4 * 1024 * 1024) { sent += chunk.length; if (!req.write(chunk)) { req.once('drain', pump); return; } } req.end(); };
  pump();
});
console.log('chunked', res);
await t.close();
const t2 = await startTestServer('probe2');
for (const [label, body] of [
  ['prio', { spec: { priority: 2147483648, containers: [{ name: 'c', image: 'i' }] } }],
  ['tgps', { spec: { terminationGracePeriodSeconds: 99999999999999999999, containers: [{ name: 'c', image: 'i' }] } }],
  ['port', { spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 4294967296 }] }] } }],
  ['okmax', { spec: { priority: 2147483647, containers: [{ name: 'c', image: 'i' }] } }],
  ['ts', { metadata: { creationTimestamp: 'garbage' }, spec: { containers: [{ name: 'c', image: 'i' }] } }],
  ['ts2', { metadata: { deletionTimestamp: '2024-13-01T00:00:00Z' }, spec: { containers: [{ name: 'c', image: 'i' }] } }],
  ['ts3', { metadata: { creationTimestamp: '2024-01-01T00:00:00.5+01:00' }, spec: { containers: [{ name: 'c', image: 'i' }] } }],
] as const) {
  const b = { apiVersion: 'v1', kind: 'Pod', ...body, metadata: { name: label, ...((body as any).metadata ?? {}) } };
  const r = await json(t2.call('post', '/api/v1/namespaces/default/pods'), b);
  console.log(label, r.status, r.body.message ?? '');
}
await t2.close();
