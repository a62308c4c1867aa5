// Who may call a simulated kubelet's HTTPS endpoint, decided as the real kubelet decides it with
// --anonymous-auth=false, --client-ca-file and webhook authentication and authorization:
//  - a client certificate signed by the cluster CA names the caller (CN user, O groups): this is how
//    the API server authenticates when it proxies `kubectl logs` (kube-apiserver's
//    --kubelet-client-certificate);
//  - a bearer token is checked with a TokenReview against the API server;
//  - no credential: 401 Unauthorized.
// Every authenticated caller is then authorised with a SubjectAccessReview, with the attributes the
// kubelet's authorizer maps a path to: resource `nodes`, the node's name, the HTTP method's verb,
// and subresource `stats`, `metrics`, `log`, `spec`, `checkpoint` for those paths and `proxy` for
// everything else (so /containerLogs needs nodes/proxy). Answers are cached as the kubelet caches
// them (tokens 2 minutes, allowed 5 minutes, denied 30 seconds).

import { readFileSync } from 'node:fs';
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { TtlCache } from '../clients/ttl-cache.ts';

export interface KubeletUser {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface KubeletRequestAttributes {
  verb: string;
  subresource: string;
  nodeName: string;
}

export interface KubeletAuth {
  /** The caller a bearer token stands for; undefined when the API server does not recognise it. */
  authenticateToken(token: string): Promise<KubeletUser | undefined>;
  authorize(user: KubeletUser, attributes: KubeletRequestAttributes): Promise<boolean>;
}

const VERBS: Record<string, string> = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
const SUBPATHS: [string, string][] = [['/stats', 'stats'], ['/metrics', 'metrics'], ['/logs', 'log'], ['/spec', 'spec'], ['/checkpoint', 'checkpoint']];

/** The kubelet's mapping of a request to API attributes (pkg/kubelet/server/auth.go). */
export function kubeletRequestAttributes(method: string, path: string, nodeName: string): KubeletRequestAttributes {
  const subpath = SUBPATHS.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`));
  return { verb: VERBS[method] ?? '', subresource: subpath ? subpath[1] : 'proxy', nodeName };
}

const TOKEN_TTL_MS = 2 * 60_000;
const ALLOWED_TTL_MS = 5 * 60_000;
const DENIED_TTL_MS = 30_000;

/** TokenReview and SubjectAccessReview against the API server, as the node's own identity. */
export class ApiServerDelegatedAuth implements KubeletAuth {
  // Built on first use: a process of thousands of nodes mostly never gets a direct caller.
  private clients: { authentication: AuthenticationV1Api; authorization: AuthorizationV1Api } | undefined;
  private readonly tokens = new TtlCache<KubeletUser | null>();
  private readonly decisions = new TtlCache<boolean>();

  constructor(private readonly config: KubeConfig) {}

  private get authentication(): AuthenticationV1Api {
    return this.api().authentication;
  }

  private get authorization(): AuthorizationV1Api {
    return this.api().authorization;
  }

  private api(): { authentication: AuthenticationV1Api; authorization: AuthorizationV1Api } {
    this.clients ??= { authentication: this.config.makeApiClient(AuthenticationV1Api), authorization: this.config.makeApiClient(AuthorizationV1Api) };
    return this.clients;
  }

  async authenticateToken(token: string): Promise<KubeletUser | undefined> {
    const cached = this.tokens.get(token);
    if (cached !== undefined) return cached ?? undefined;
    const review = await this.authentication.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
    const status = review.status;
    const user = status?.authenticated && status.user?.username
      ? { username: status.user.username, uid: status.user.uid, groups: status.user.groups ?? [], extra: status.user.extra }
      : null;
    this.tokens.set(token, user, TOKEN_TTL_MS);
    return user ?? undefined;
  }

  async authorize(user: KubeletUser, attributes: KubeletRequestAttributes): Promise<boolean> {
    const key = JSON.stringify([user.username, user.uid ?? '', [...user.groups].sort(), user.extra ?? {}, attributes]);
    const cached = this.decisions.get(key);
    if (cached !== undefined) return cached;
    const review = await this.authorization.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
        spec: {
          user: user.username, uid: user.uid, groups: user.groups, extra: user.extra,
          resourceAttributes: { verb: attributes.verb, group: '', version: 'v1', resource: 'nodes', subresource: attributes.subresource, name: attributes.nodeName },
        },
      },
    });
    const allowed = review.status?.allowed === true;
    this.decisions.set(key, allowed, allowed ? ALLOWED_TTL_MS : DENIED_TTL_MS);
    return allowed;
  }
}

/** The cluster CA of a kubeconfig (inline data or file), which the kubelet trusts for client certificates. */
export function clusterCaPem(config: KubeConfig): string {
  const cluster = config.getCurrentCluster();
  if (cluster?.caData) return Buffer.from(cluster.caData, 'base64').toString('utf8');
  if (cluster?.caFile) return readFileSync(cluster.caFile, 'utf8');
  throw new Error('the kubeconfig names no certificate authority: the kubelet cannot verify the API server\'s client certificate');
}
