// The API side of the sig-network conformance entries whose point is traffic (session affinity for ClusterIP and
// NodePort services, a functioning NodePort service, one port number over TCP and UDP). kubefacade proxies no
// packets, so those entries are not applicable; what the API server and the controllers owe them is checked here:
// the fields, their defaults and validation, allocation, and endpoints for the pods that would serve the traffic.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, until, type ConformanceCluster, type Json } from './conformance/helpers/cluster.ts';

describe('services: the API side of traffic-only entries', () => {
  let c: ConformanceCluster;
  const NS = '/api/v1/namespaces/default';
  before(async () => {
    c = await startConformanceCluster('svc-traffic', { nodes: 1 });
  });
  after(async () => {
    await c?.stop();
  });

  /** An RC of three agnhost serve-hostname pods and the ready endpoints of `service` naming all three. */
  const servingPods = async (name: string, service: string, ports: Json[] = [{ containerPort: 9376 }]) => {
    await c.api('post', `${NS}/replicationcontrollers`, { body: { metadata: { name }, spec: {
      replicas: 3, selector: { name },
      template: { metadata: { labels: { name } }, spec: { containers: [{ name, image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['serve-hostname'], ports }] } },
    } } });
    return until(async () => {
      const ep = await c.api('get', `${NS}/endpoints/${service}`);
      const addresses = (ep.subsets ?? []).flatMap((s: Json) => (s.addresses ?? []) as Json[]);
      return addresses.length === 3 ? ep : undefined;
    }, `three ready endpoints of ${service}`, 60_000);
  };

  for (const type of ['ClusterIP', 'NodePort']) {
    test(`session affinity of a ${type} service: ClientIP defaults, switching to None and back`, async () => {
      const name = `affinity-${type.toLowerCase()}`;
      const created = await c.api('post', `${NS}/services`, { body: { metadata: { name }, spec: {
        type, sessionAffinity: 'ClientIP', selector: { name }, ports: [{ port: 80, targetPort: 9376, protocol: 'TCP' }],
      } } });
      assert.deepEqual(created.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
      assert.match(created.spec.clusterIP, /^10\./);
      if (type === 'NodePort') assert.ok(created.spec.ports[0].nodePort >= 30000 && created.spec.ports[0].nodePort <= 32767);
      else assert.equal(created.spec.ports[0].nodePort, undefined);
      await servingPods(name, name);
      // As the e2e jig switches it: the object read back, sessionAffinity set to None, the config left as read.
      const none = await c.api('put', `${NS}/services/${name}`, { body: { ...created, spec: { ...created.spec, sessionAffinity: 'None' } } });
      assert.equal(none.spec.sessionAffinity, 'None');
      assert.equal(none.spec.sessionAffinityConfig, undefined);
      assert.equal(none.spec.clusterIP, created.spec.clusterIP);
      assert.equal(none.spec.ports[0].nodePort, created.spec.ports[0].nodePort);
      const back = await c.api('put', `${NS}/services/${name}`, { body: { ...none, spec: { ...none.spec, sessionAffinity: 'ClientIP' } } });
      assert.deepEqual(back.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
      const tooLong = await c.raw('put', `${NS}/services/${name}`).set('Content-Type', 'application/json')
        .send(JSON.stringify({ ...back, spec: { ...back.spec, sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } } } }));
      assert.equal(tooLong.status, 422, tooLong.text);
      assert.match(tooLong.body.message, /spec\.sessionAffinityConfig\.clientIP\.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400/);
    });
  }

  test('one port number over TCP and UDP: both in the endpoints, then only the one the service keeps', async () => {
    const created = await c.api('post', `${NS}/services`, { body: { metadata: { name: 'tcp-udp' }, spec: {
      selector: { name: 'tcp-udp' }, ports: [{ name: 'tcp-port', port: 80, protocol: 'TCP' }, { name: 'udp-port', port: 80, protocol: 'UDP' }],
    } } });
    const portsOf = (ep: Json) => ((ep.subsets?.[0]?.ports ?? []) as Json[]).map((p) => `${p.name}:${p.port}/${p.protocol}`).sort();
    const ep = await servingPods('tcp-udp', 'tcp-udp', [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 80, protocol: 'UDP' }]);
    assert.deepEqual(portsOf(ep), ['tcp-port:80/TCP', 'udp-port:80/UDP']);
    for (const keep of ['TCP', 'UDP']) {
      const current = await c.api('get', `${NS}/services/tcp-udp`);
      await c.api('put', `${NS}/services/tcp-udp`, { body: { ...current, spec: { ...current.spec, ports: (created.spec.ports as Json[]).filter((p) => p.protocol === keep) } } });
      await until(async () => {
        const now = portsOf(await c.api('get', `${NS}/endpoints/tcp-udp`));
        return now.length === 1 && now[0].endsWith(`/${keep}`) ? true : undefined;
      }, `endpoints with only the ${keep} port`);
    }
  });
});
