import { startTestServer } from '../test/helpers/api-server.ts';
import { request } from 'node:https';
const t = await startTestServer('probe4');
for (const path of ['/api/v1/watch/nodes', '/api/v1/nodes?watch=1', '/api/v1/nodes']) {
  const s = performance.now();
  const r = await new Promise<string>((resolve) => {
    const req = request(`${t.url}${path}`, { method: 'HEAD', ca: t.server.caCertPem, headers: { Authorization: `Bearer ${t.server.adminToken}` } }, (res) => { resolve(`${res.statusCode} ${JSON.stringify(res.headers)}`); req.destroy(); });
    req.setTimeout(3000, () => { req.destroy(); resolve('TIMEOUT'); });
    req.on('error', (e) => resolve('ERR ' + e.message));
    req.end();
  });
  console.log(path, r.slice(0, 200), (performance.now() - s).toFixed(0));
}
await t.close();
