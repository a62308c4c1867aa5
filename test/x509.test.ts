// auth/x509.ts: certificates written as DER and signed with node:crypto. Checked with Node's own X.509
// parser and with OpenSSL (the library Python's and Ruby's clients verify with).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { generateEcKeyPair, issueCertificate, type KeyPairPem } from '../auth/x509.ts';
import { ensureSigningKey, signingKeyPaths } from '../auth/signing-key.ts';
import { issueToken, JwtAuthenticator } from '../auth/jwt-tokens.ts';

function caFrom(keys: KeyPairPem): string {
  return issueCertificate({
    commonName: 'test-ca', publicKeyPem: keys.publicKeyPem, days: 10, isCa: true, basicConstraintsCritical: true,
    keyUsage: { keyCertSign: true, cRLSign: true, digitalSignature: true, keyEncipherment: true },
  }, { privateKeyPem: keys.privateKeyPem });
}

function leafOf(ca: { certPem: string; privateKeyPem: string }, keys: KeyPairPem): string {
  return issueCertificate({
    commonName: 'alice', organizations: ['dev', 'system:masters'], publicKeyPem: keys.publicKeyPem, days: 1, isCa: false,
    keyUsage: { digitalSignature: true, keyEncipherment: true }, extKeyUsage: ['clientAuth', 'serverAuth'],
    subjectAltNames: ['localhost', 'node-1.example', '127.0.0.1', '::1', 'fe80::1:2'],
  }, ca);
}

function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { encoding: 'utf8', input });
}

describe('X.509 certificates written by auth/x509.ts', () => {
  test('an ECDSA P-256 CA and leaf: Node verifies the chain and reads subject, SANs and usages', () => {
    const caKeys = generateEcKeyPair();
    assert.match(caKeys.privateKeyPem, /^-----BEGIN EC PRIVATE KEY-----/);
    const caPem = caFrom(caKeys);
    const leafPem = leafOf({ certPem: caPem, privateKeyPem: caKeys.privateKeyPem }, generateEcKeyPair());
    const ca = new X509Certificate(caPem);
    const leaf = new X509Certificate(leafPem);
    assert.equal(ca.ca, true);
    assert.equal(leaf.ca, false);
    assert.ok(ca.verify(ca.publicKey), 'the CA is self-signed');
    assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey), 'the leaf is signed by the CA');
    assert.equal(leaf.subject, 'O=dev\nO=system:masters\nCN=alice');
    assert.equal(leaf.issuer, 'CN=test-ca');
    assert.equal(leaf.subjectAltName, 'DNS:localhost, DNS:node-1.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FE80:0:0:0:0:0:1:2');
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.1']);
    assert.equal(leaf.publicKey.asymmetricKeyType, 'ec');
    const days = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 86_400_000;
    assert.ok(days > 1 && days < 1.01, `valid one day and a minute, got ${days} days`);
  });

  test('OpenSSL verifies the chain and sees the extensions, with the key identifiers linked', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubefacade-x509-'));
    try {
      const caKeys = generateEcKeyPair();
      const caPem = caFrom(caKeys);
      const leafPem = leafOf({ certPem: caPem, privateKeyPem: caKeys.privateKeyPem }, generateEcKeyPair());
      writeFileSync(join(dir, 'ca.crt'), caPem);
      writeFileSync(join(dir, 'leaf.crt'), leafPem);
      assert.equal(openssl(['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'leaf.crt')]).trim(), `${join(dir, 'leaf.crt')}: OK`);
      const caText = openssl(['x509', '-noout', '-text', '-in', join(dir, 'ca.crt')]);
      assert.match(caText, /Signature Algorithm: ecdsa-with-SHA256/);
      assert.match(caText, /Basic Constraints: critical\s+CA:TRUE/);
      assert.match(caText, /Key Usage: critical\s+Digital Signature, Key Encipherment, Certificate Sign, CRL Sign/);
      const leafText = openssl(['x509', '-noout', '-text', '-in', join(dir, 'leaf.crt')]);
      assert.match(leafText, /Basic Constraints: \s+CA:FALSE/);
      assert.match(leafText, /Extended Key Usage: \s+TLS Web Client Authentication, TLS Web Server Authentication/);
      const caSki = /Subject Key Identifier: \s+([0-9A-F:]+)/.exec(caText)?.[1];
      const leafAki = /Authority Key Identifier: \s+(?:keyid:)?([0-9A-F:]+)/.exec(leafText)?.[1];
      assert.ok(caSki && caSki === leafAki, `the leaf's authority key id ${leafAki} is the CA's subject key id ${caSki}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an RSA issuer (a data dir created before ECDSA) still signs, with sha256WithRSAEncryption', () => {
    const rsa = generateKeyPairSync('rsa', {
      modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const caKeys = { publicKeyPem: rsa.publicKey, privateKeyPem: rsa.privateKey };
    const caPem = caFrom(caKeys);
    const leafPem = leafOf({ certPem: caPem, privateKeyPem: caKeys.privateKeyPem }, generateEcKeyPair());
    assert.ok(new X509Certificate(leafPem).verify(new X509Certificate(caPem).publicKey));
    assert.match(openssl(['x509', '-noout', '-text'], leafPem), /Signature Algorithm: sha256WithRSAEncryption/);
  });
});

describe('token signing keys', () => {
  test('a new data dir gets an ECDSA P-256 key whose ES256 tokens authenticate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubefacade-sa-key-'));
    try {
      const key = await ensureSigningKey(dir);
      assert.equal(key.algorithm, 'ES256');
      assert.match(readFileSync(signingKeyPaths(dir).privateKey, 'utf8'), /^-----BEGIN EC PRIVATE KEY-----/);
      const token = issueToken(key, { username: 'alice', groups: ['dev'], ttlSeconds: 60 });
      const result = new JwtAuthenticator(key).authenticate({ authorization: `Bearer ${token}` } as Parameters<JwtAuthenticator['authenticate']>[0]);
      assert.equal(result.status, 'authenticated');
      assert.equal((await ensureSigningKey(dir)).keyId, key.keyId, 'the key is kept across starts');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a data dir created with an RSA key keeps signing RS256 tokens with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubefacade-sa-key-'));
    try {
      const rsa = generateKeyPairSync('rsa', {
        modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      });
      mkdirSync(join(dir, 'pki'));
      writeFileSync(signingKeyPaths(dir).privateKey, rsa.privateKey, { mode: 0o600 });
      const key = await ensureSigningKey(dir);
      assert.equal(key.algorithm, 'RS256');
      const token = issueToken(key, { username: 'bob', groups: [], ttlSeconds: 60 });
      assert.equal(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).alg, 'RS256');
      const result = new JwtAuthenticator(key).authenticate({ authorization: `Bearer ${token}` } as Parameters<JwtAuthenticator['authenticate']>[0]);
      assert.equal(result.status, 'authenticated');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
