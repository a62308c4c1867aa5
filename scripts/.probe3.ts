import { startTestServer, json } from '../test/helpers/api-server.ts';
const t = await startTestServer('probe3');
const pods = '/api/v1/namespaces/default/pods';
const n = Number(process.argv[2] ?? 20000);
const containers = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'nginx' }));
async function timed(label: string, p: () => Promise<any>) {
  let maxGet = 0;
  let stop = false;
  const prober = (async () => { while (!stop) { const s = performance.now(); await t.call('get', '/api/v1/namespaces/default'); maxGet = Math.max(maxGet, performance.now() - s); await new Promise((r) => setTimeout(r, 50)); } })();
  const s = performance.now();
  const r = await p();
  const ms = performance.now() - s;
  stop = true; await prober;
  console.log(label, r.status, String(r.body?.message ?? '').slice(0, 100), `${ms.toFixed(0)} ms, slowest concurrent GET ${maxGet.toFixed(0)} ms`);
}
await timed('create', () => json(t.call('post', pods), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'big' }, spec: { containers } }));
await timed('smp', () => json(t.call('patch', `${pods}/big`), { spec: { containers: containers.map((c) => ({ name: c.name, image: 'nginx:2' })) } }, 'application/strategic-merge-patch+json'));
const keys = 'apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\nspec:\n  resourceAttributes:\n' + Array.from({ length: 150000 }, (_, i) => `    k${i}: v`).join('\n') + '\n';
console.log('yaml bytes', keys.length);
await timed('yaml keys', () => json(t.call('post', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'), keys, 'application/yaml'));
const copy = [{ op: 'add', path: '/metadata/annotations', value: { a: 'x'.repeat(64 * 1024) } }, ...Array.from({ length: 11 }, (_, i) => ({ op: 'copy', from: '/metadata/annotations', path: `/metadata/labels${i}` }))];
await timed('json-patch copy', () => json(t.call('patch', `${pods}/big`), copy, 'application/json-patch+json'));
await t.close();
