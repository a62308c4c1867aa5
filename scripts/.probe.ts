import { startTestServer, json, podManifest } from '../test/helpers/api-server.ts';
const t = await startTestServer('probe');
const pods = '/api/v1/namespaces/default/pods';
await json(t.call('post', pods), podManifest('p1'));
const nest = (d: number) => '{"a":'.repeat(d - 1) + '{}' + '}'.repeat(d - 1);
for (const d of [1000, 2500, 5000, 9990, 10001, 100000]) {
  const body = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deep${d}"},"spec":{"containers":[{"name":"c","image":"i"}],"x":${nest(d)}}}`;
  const r1 = await json(t.call('post', pods), body);
  const r2 = await json(t.call('patch', `${pods}/p1`), `{"metadata":{"labels":{"a":"b"}},"x":${nest(d)}}`, 'application/strategic-merge-patch+json');
  const r3 = await json(t.call('patch', `${pods}/p1`), `{"x":${nest(d)}}`, 'application/merge-patch+json');
  const r4 = await json(t.call('patch', `${pods}/p1`), `[{"op":"add","path":"/x","value":${nest(d)}}]`, 'application/json-patch+json');
  const r5 = await json(t.call('post', pods), `apiVersion: v1\nkind: Pod\nmetadata: {name: y${d}}\nspec: {containers: [{name: c, image: i}], x: ${'['.repeat(d)}${']'.repeat(d)}}\n`, 'application/yaml');
  console.log(d, [r1, r2, r3, r4, r5].map((r) => `${r.status} ${String(r.body?.message ?? '').slice(0, 90)}`));
}
const dup = await json(t.call('post', `${pods}?fieldValidation=Strict`), '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"d1","name":"d2"},"spec":{"containers":[{"name":"c","image":"i"}]}}');
console.log('dup strict', dup.status, dup.body.message);
const dupw = await json(t.call('post', pods), '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"d1","name":"d2"},"spec":{"containers":[{"name":"c","image":"i"}]}}');
console.log('dup warn', dupw.status, dupw.headers.warning);
const ydup = await json(t.call('post', pods), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n', 'application/yaml');
console.log('yaml dup', ydup.status, ydup.body.message);
await t.close();
