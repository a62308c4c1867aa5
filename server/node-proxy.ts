// GET nodes/{name}/proxy/{path}: kube-apiserver's node proxy, as far as kubectl and scrapers use it — a GET of a path
// of the node's kubelet (its /metrics, /healthz, /containerLogs/…), dialled at the address and port the node
// advertises with the API server's kubelet client certificate; the kubelet authenticates and authorises that
// certificate and answers as it would a direct caller. Only loopback kubelet addresses are dialled
// (kubelet-location.ts); only GET is proxied (upstream proxies every method).

import { request as httpsRequest } from 'node:https';
import { StatusError } from '../api/errors.ts';
import type { GenericStore } from '../api/registry/store.ts';
import { kubeletLocation, type KubeletClientCertificate } from './kubelet-location.ts';
import type { SubresourceHandler } from './subresources.ts';

export function nodeProxyHandler(nodes: () => GenericStore | undefined, kubeletClient?: KubeletClientCertificate): SubresourceHandler {
  return {
    verbs: ['get'],
    async handle({ req, res, info }) {
      const url = new URL(req.originalUrl ?? req.url, 'https://apiserver');
      const marker = `/nodes/${encodeURIComponent(info.name)}/proxy`;
      const at = url.pathname.indexOf(marker);
      const rest = at >= 0 ? url.pathname.slice(at + marker.length) : '';
      const path = `${rest === '' ? '/' : rest}${url.search}`;
      const { host, port } = await kubeletLocation(nodes(), info.name);
      await new Promise<void>((resolve, reject) => {
        const upstream = httpsRequest({ host, port, path, method: 'GET', rejectUnauthorized: false, cert: kubeletClient?.certPem, key: kubeletClient?.keyPem }, (answer) => {
          res.status(answer.statusCode ?? 502);
          const type = answer.headers['content-type'];
          if (type) res.setHeader('Content-Type', type);
          answer.pipe(res);
          answer.on('end', () => resolve());
          answer.on('error', () => resolve());
        });
        upstream.on('error', (err) => reject(new StatusError(503, 'ServiceUnavailable', `error trying to reach service: dial tcp ${host}:${port}: ${err.message}`)));
        req.on('close', () => upstream.destroy());
        upstream.end();
      });
    },
  };
}
