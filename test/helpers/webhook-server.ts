// An admission webhook served by the test over HTTPS with a CA of its own (not the cluster's):
// the handler gets each AdmissionReview request and returns the response fields.

import { createServer, type Server } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki } from '../../auth/pki.ts';

export interface AdmissionRequestJson {
  uid: string;
  operation: string;
  name: string;
  namespace?: string;
  object: Record<string, unknown> & { metadata: { labels?: Record<string, string>; name?: string } };
  oldObject: unknown;
  dryRun: boolean;
  resource: { group: string; version: string; resource: string };
  userInfo: { username: string };
}

export type ReviewHandler = (request: AdmissionRequestJson, path: string) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface WebhookServer {
  url: string;
  port: number;
  /** base64 PEM of the webhook's own CA, for clientConfig.caBundle. */
  caBundle: string;
  calls: number;
  /** TLS connections accepted (keep-alive means one for many calls). */
  connections: number;
  close(): Promise<void>;
}

export async function startWebhookServer(handler: ReviewHandler, options: { raw?: (path: string) => string | undefined } = {}): Promise<WebhookServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kubefacade-webhook-'));
  const pki = await ensurePki(join(dir, 'pki'), { sans: ['webhook.default.svc'] });
  let server: Server | undefined;
  const state = { calls: 0, connections: 0 };
  server = createServer({ cert: pki.servingCertPem, key: pki.servingKeyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      state.calls++;
      const raw = options.raw?.(req.url ?? '');
      if (raw !== undefined) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(raw);
        return;
      }
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request: AdmissionRequestJson };
      const response = await handler(review.request, req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, ...response } }));
    });
  });
  server.on('secureConnection', () => { state.connections++; });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    caBundle: Buffer.from(pki.caCertPem).toString('base64'),
    get calls() { return state.calls; },
    get connections() { return state.connections; },
    async close() {
      server?.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A JSONPatch response adding a label (escaping `/` in the key). */
export function addLabelPatch(labels: Record<string, string> | undefined, key: string, value: string): Record<string, unknown> {
  const ops = labels ? [{ op: 'add', path: `/metadata/labels/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, value }] : [{ op: 'add', path: '/metadata/labels', value: { [key]: value } }];
  return { allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
}
