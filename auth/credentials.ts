// Minting credentials the cluster accepts and packaging them as kubeconfigs: bearer JWTs signed with the
// server's key (cheap: one per simulated node) and client certificates signed by the cluster CA (as
// kubeadm gives the scheduler and controller manager). Every kubeconfig carries the CA, so clients verify
// the server.

import type { IssuedCertificate, Pki } from './pki.ts';
import { signClientCertificate, signClientCertificateAsync } from './pki.ts';
import { issueToken } from './jwt-tokens.ts';
import type { SigningKey } from './signing-key.ts';
import { renderKubeconfig, writeKubeconfig, type KubeconfigOptions } from '../server/kubeconfig.ts';

export const CLUSTER_NAME = 'kubefacade';

export interface IdentityRequest {
  username: string;
  groups: string[];
}

export class CredentialIssuer {
  constructor(private readonly ca: Pick<Pki, 'caCertPem' | 'caKeyPem'>, private readonly signingKey: SigningKey) {}

  get caCertPem(): string {
    return this.ca.caCertPem;
  }

  token(identity: IdentityRequest, ttlSeconds: number): string {
    return issueToken(this.signingKey, { username: identity.username, groups: identity.groups, ttlSeconds });
  }

  clientCertificate(identity: IdentityRequest, days: number): IssuedCertificate {
    return signClientCertificate(this.ca, { commonName: identity.username, organizations: identity.groups, days });
  }

  tokenKubeconfig(server: string, identity: IdentityRequest, ttlSeconds: number): string {
    return renderKubeconfig(this.tokenKubeconfigOptions(server, identity, ttlSeconds));
  }

  async writeTokenKubeconfig(file: string, server: string, identity: IdentityRequest, ttlSeconds: number): Promise<void> {
    await writeKubeconfig(file, this.tokenKubeconfigOptions(server, identity, ttlSeconds));
  }

  async writeCertificateKubeconfig(file: string, server: string, identity: IdentityRequest, days: number): Promise<void> {
    const cert = await signClientCertificateAsync(this.ca, { commonName: identity.username, organizations: identity.groups, days });
    await writeKubeconfig(file, {
      clusterName: CLUSTER_NAME, server, caCertPem: this.ca.caCertPem,
      users: [{ name: identity.username, clientCertificatePem: cert.certPem, clientKeyPem: cert.keyPem }],
      contextUser: identity.username,
    });
  }

  private tokenKubeconfigOptions(server: string, identity: IdentityRequest, ttlSeconds: number): KubeconfigOptions {
    return {
      clusterName: CLUSTER_NAME, server, caCertPem: this.ca.caCertPem,
      users: [{ name: identity.username, token: this.token(identity, ttlSeconds) }],
      contextUser: identity.username,
    };
  }
}
