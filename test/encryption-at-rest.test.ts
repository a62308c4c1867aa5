// Encryption at rest (--encryption-provider-config) against real servers: the bytes in LevelDB (data
// entries and change-log records, read directly after the server closed) and in etcd are upstream's
// envelope, never the plaintext; values read back through the API; each provider; key rotation and
// migration by rewrite; restarts; identity first; bad config files refused before any data is touched.

import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ClassicLevel } from 'classic-level';
import { Etcd3 } from 'etcd3';
import request from 'supertest';
import nacl from 'tweetnacl';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { spawnSync } from 'node:child_process';
import { LevelDbStorage } from '../storage/leveldb.ts';
import { PrefixKeyTransformers, PrefixTransformers } from '../storage/value-transformer.ts';
import type { StorageEvent } from '../storage/interface.ts';
import { migrate, openStoreLocation } from '../storage/migrate.ts';
import { encryptionTransformers } from '../server/encrypted-resources.ts';
import { startEtcdCluster } from './helpers/etcd.ts';
import { Kubectl } from './helpers/kubectl.ts';
import { REPO_ROOT } from './helpers/server-process.ts';

const SECRET_TEXT = 'correct-horse-battery-staple';
const SECRET_B64 = Buffer.from(SECRET_TEXT).toString('base64');
const KEY = '/registry/secrets/default/db-password';

const dirs: string[] = [];
after(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubefacade-encryption-'));
  dirs.push(dir);
  return dir;
}

type Provider = { aescbc: { keys: { name: string; secret: string }[] } } | { aesgcm: { keys: { name: string; secret: string }[] } }
  | { secretbox: { keys: { name: string; secret: string }[] } } | { identity: Record<string, never> };

function writeConfig(dir: string, providers: Provider[], resources = ['secrets'], name = 'encryption.yaml'): string {
  const file = join(dir, name);
  const config = { apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources, providers }] };
  // JSON is valid YAML: the loader reads both (a YAML file is tested below).
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

const key32 = (): Buffer => randomBytes(32);

async function start(dataDir: string, encryptionProviderConfig?: string): Promise<RunningApiServer> {
  return startApiServer({ dataDir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'], encryptionProviderConfig });
}

function call(server: RunningApiServer, method: 'get' | 'post' | 'put', path: string): request.Test {
  return request(server.url)[method](path).ca(server.caCertPem).set('Authorization', `Bearer ${server.adminToken}`);
}

async function createSecret(server: RunningApiServer, name = 'db-password', value = SECRET_B64): Promise<void> {
  const response = await call(server, 'post', '/api/v1/namespaces/default/secrets')
    .send({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'Opaque', data: { password: value } });
  assert.equal(response.status, 201, JSON.stringify(response.body));
}

async function readSecretValue(server: RunningApiServer, name = 'db-password'): Promise<string> {
  const response = await call(server, 'get', `/api/v1/namespaces/default/secrets/${name}`);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return Buffer.from((response.body as { data: { password: string } }).data.password, 'base64').toString();
}

/** `kubectl get secret -o json | kubectl replace -f -`: the same object written back. */
async function rewriteSecret(server: RunningApiServer, name = 'db-password'): Promise<void> {
  const current = await call(server, 'get', `/api/v1/namespaces/default/secrets/${name}`);
  const response = await call(server, 'put', `/api/v1/namespaces/default/secrets/${name}`).send(current.body as object);
  assert.equal(response.status, 200, JSON.stringify(response.body));
}

interface RawStore {
  /** The stored text of the data entry (after the `<revision> ` header). */
  data(key: string): string | undefined;
  /** Every change-log record. */
  log: string[];
}

/** Reads the LevelDB store directly (the server must be closed). */
async function readRaw(dataDir: string): Promise<RawStore> {
  const db = new ClassicLevel<string, string>(join(dataDir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  try {
    const entries = await db.iterator().all();
    const map = new Map(entries);
    return {
      data(key) {
        const raw = map.get(`d:${key}`);
        return raw === undefined ? undefined : raw.slice(raw.indexOf(' ') + 1);
      },
      log: entries.filter(([key]) => key.startsWith('l:')).map(([, value]) => value),
    };
  } finally {
    await db.close();
  }
}

/** The upstream ciphertext of a LevelDB text `prefix + base64(ciphertext)`. */
function ciphertextOf(text: string, prefix: string): Buffer {
  assert.ok(text.startsWith(prefix), `stored value starts with ${prefix}: ${text.slice(0, 60)}`);
  return Buffer.from(text.slice(prefix.length), 'base64');
}

function assertNoPlaintext(raw: RawStore, key: string): void {
  const stored = raw.data(key) as string;
  assert.ok(!stored.includes(SECRET_B64) && !stored.includes(SECRET_TEXT) && !stored.includes('db-password'), 'the data entry holds no plaintext');
  for (const record of raw.log) {
    if (!record.includes(`\n${key}\n`)) continue;
    assert.ok(!record.includes(SECRET_B64) && !record.includes('"password"'), `the change-log record holds no plaintext: ${record.slice(0, 200)}`);
  }
}

describe('encryption at rest (LevelDB)', () => {
  test('aescbc: stored as k8s:enc:aescbc:v1:<key>: + IV + PKCS#7-padded CBC, also in the change log; readable through the API and after a restart', async () => {
    const dir = tempDir();
    const secret = key32();
    const config = writeConfig(dir, [{ aescbc: { keys: [{ name: 'key1', secret: secret.toString('base64') } ] } }, { identity: {} }]);
    let server = await start(dir, config);
    try {
      await createSecret(server);
      assert.equal(await readSecretValue(server), SECRET_TEXT);
    } finally {
      await server.close();
    }
    const raw = await readRaw(dir);
    assertNoPlaintext(raw, KEY);
    const payload = ciphertextOf(raw.data(KEY) as string, 'k8s:enc:aescbc:v1:key1:');
    assert.equal((payload.length - 16) % 16, 0);
    const decipher = createDecipheriv('aes-256-cbc', secret, payload.subarray(0, 16));
    const plain = Buffer.concat([decipher.update(payload.subarray(16)), decipher.final()]).toString();
    assert.equal((JSON.parse(plain) as { data: { password: string } }).data.password, SECRET_B64);
    // Other resources are not named by the config: stored as is.
    assert.ok((raw.data('/registry/namespaces/default') as string).startsWith('{'));

    server = await start(dir, config);
    try {
      assert.equal(await readSecretValue(server), SECRET_TEXT);
    } finally {
      await server.close();
    }
  });

  test('aesgcm: nonce + sealed data with the storage key as authenticated data (16-byte key)', async () => {
    const dir = tempDir();
    const secret = randomBytes(16);
    const config = writeConfig(dir, [{ aesgcm: { keys: [{ name: 'gcm-a', secret: secret.toString('base64') }] } }]);
    const server = await start(dir, config);
    try {
      await createSecret(server);
      assert.equal(await readSecretValue(server), SECRET_TEXT);
    } finally {
      await server.close();
    }
    const raw = await readRaw(dir);
    assertNoPlaintext(raw, KEY);
    const payload = ciphertextOf(raw.data(KEY) as string, 'k8s:enc:aesgcm:v1:gcm-a:');
    const open = (authenticatedData: string): string => {
      const decipher = createDecipheriv('aes-128-gcm', secret, payload.subarray(0, 12));
      decipher.setAAD(Buffer.from(authenticatedData));
      decipher.setAuthTag(payload.subarray(payload.length - 16));
      return Buffer.concat([decipher.update(payload.subarray(12, payload.length - 16)), decipher.final()]).toString();
    };
    assert.match(open(KEY), /"password"/);
    assert.throws(() => open('/registry/secrets/default/other'), 'bound to its key');
  });

  test('secretbox: 24-byte nonce + NaCl secretbox; a configmap under *. is encrypted too', async () => {
    const dir = tempDir();
    const secret = key32();
    const config = writeConfig(dir, [{ secretbox: { keys: [{ name: 'box', secret: secret.toString('base64') }] } }], ['*.']);
    const server = await start(dir, config);
    try {
      await createSecret(server);
      const created = await call(server, 'post', '/api/v1/namespaces/default/configmaps')
        .send({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { mode: 'fast' } });
      assert.equal(created.status, 201);
      assert.equal(await readSecretValue(server), SECRET_TEXT);
      const configMap = await call(server, 'get', '/api/v1/namespaces/default/configmaps/settings');
      assert.deepEqual((configMap.body as { data: unknown }).data, { mode: 'fast' });
    } finally {
      await server.close();
    }
    const raw = await readRaw(dir);
    assertNoPlaintext(raw, KEY);
    const payload = ciphertextOf(raw.data(KEY) as string, 'k8s:enc:secretbox:v1:box:');
    const opened = nacl.secretbox.open(new Uint8Array(payload.subarray(24)), new Uint8Array(payload.subarray(0, 24)), new Uint8Array(secret));
    assert.ok(opened);
    assert.match(Buffer.from(opened).toString(), /"password"/);
    assert.ok((raw.data('/registry/configmaps/default/settings') as string).startsWith('k8s:enc:secretbox:v1:box:'));
    // `*.` is the core group only: leases (coordination.k8s.io) stay as is.
    const lease = [...raw.log].find((record) => record.includes('\n/registry/leases/'));
    if (lease) assert.ok(!lease.includes('k8s:enc:'));
  });

  test('rotation: a new key first and the old one second reads old values; a rewrite moves them to the new key', async () => {
    const dir = tempDir();
    const oldKey = { name: 'old', secret: key32().toString('base64') };
    const newKey = { name: 'new', secret: key32().toString('base64') };
    let server = await start(dir, writeConfig(dir, [{ aescbc: { keys: [oldKey] } }], ['secrets'], 'v1.yaml'));
    try {
      await createSecret(server);
    } finally {
      await server.close();
    }
    assert.ok((await readRaw(dir)).data(KEY)?.startsWith('k8s:enc:aescbc:v1:old:'));

    server = await start(dir, writeConfig(dir, [{ aescbc: { keys: [newKey, oldKey] } }], ['secrets'], 'v2.yaml'));
    try {
      assert.equal(await readSecretValue(server), SECRET_TEXT);
      await createSecret(server, 'fresh');
      await rewriteSecret(server);
      assert.equal(await readSecretValue(server), SECRET_TEXT);
    } finally {
      await server.close();
    }
    const raw = await readRaw(dir);
    assert.ok(raw.data(KEY)?.startsWith('k8s:enc:aescbc:v1:new:'), 'rewritten under the new key');
    assert.ok(raw.data('/registry/secrets/default/fresh')?.startsWith('k8s:enc:aescbc:v1:new:'), 'new writes use the first key');
    assertNoPlaintext(raw, KEY);

    // The old key can now be dropped.
    server = await start(dir, writeConfig(dir, [{ aescbc: { keys: [newKey] } }], ['secrets'], 'v3.yaml'));
    try {
      assert.equal(await readSecretValue(server), SECRET_TEXT);
      assert.equal(await readSecretValue(server, 'fresh'), SECRET_TEXT);
    } finally {
      await server.close();
    }
  });

  test('migration: plaintext written without the flag is read through [aescbc, identity] and encrypted by a rewrite; an older revision is still listed', async () => {
    const dir = tempDir();
    let server = await start(dir);
    try {
      await createSecret(server);
    } finally {
      await server.close();
    }
    assert.ok((await readRaw(dir)).data(KEY)?.includes(SECRET_B64), 'without the flag secrets are stored as is');

    const config = writeConfig(dir, [{ aescbc: { keys: [{ name: 'k', secret: key32().toString('base64') }] } }, { identity: {} }]);
    server = await start(dir, config);
    let before: string;
    try {
      assert.equal(await readSecretValue(server), SECRET_TEXT);
      const list = await call(server, 'get', '/api/v1/namespaces/default/secrets');
      before = (list.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
      await rewriteSecret(server);
      // Paging at an older revision rebuilds the state from the (encrypted) change log.
      const old = await call(server, 'get', `/api/v1/namespaces/default/secrets?resourceVersion=${before}&resourceVersionMatch=Exact&limit=10`);
      assert.equal(old.status, 200, JSON.stringify(old.body));
      assert.deepEqual((old.body as { items: { data: unknown }[] }).items.map((item) => item.data), [{ password: SECRET_B64 }]);
    } finally {
      await server.close();
    }
    assert.ok((await readRaw(dir)).data(KEY)?.startsWith('k8s:enc:aescbc:v1:k:'));
  });

  test('identity first: encrypted values are still read (by the later aescbc key); rewrites store plaintext again', async () => {
    const dir = tempDir();
    const aes = { aescbc: { keys: [{ name: 'k', secret: key32().toString('base64') }] } };
    let server = await start(dir, writeConfig(dir, [aes], ['secrets'], 'encrypt.yaml'));
    try {
      await createSecret(server);
    } finally {
      await server.close();
    }
    server = await start(dir, writeConfig(dir, [{ identity: {} }, aes], ['secrets'], 'decrypt.yaml'));
    try {
      assert.equal(await readSecretValue(server), SECRET_TEXT);
      await rewriteSecret(server);
      assert.equal(await readSecretValue(server), SECRET_TEXT);
    } finally {
      await server.close();
    }
    assert.ok((await readRaw(dir)).data(KEY)?.startsWith('{'), 'decrypted by the rewrite');
  });

  test('an encrypting config without identity cannot read a value stored as is: the start is refused, the data kept (as kube-apiserver, identity must be listed)', async () => {
    const dir = tempDir();
    let server = await start(dir);
    try {
      await createSecret(server);
    } finally {
      await server.close();
    }
    const aes = { aesgcm: { keys: [{ name: 'k', secret: key32().toString('base64') }] } };
    // The watch cache's initial list reads every secret.
    await assert.rejects(start(dir, writeConfig(dir, [aes], ['secrets'], 'strict.yaml')),
      /unable to transform key "\/registry\/secrets\/default\/db-password": no matching prefix found/);
    server = await start(dir, writeConfig(dir, [aes, { identity: {} }], ['secrets'], 'lenient.yaml'));
    try {
      assert.equal(await readSecretValue(server), SECRET_TEXT);
    } finally {
      await server.close();
    }
  });
});

describe('encryption at rest in the LevelDB backend itself', () => {
  test('a watch replayed from the change log after a restart sees plaintext objects; the log holds none', async () => {
    const dir = tempDir();
    const transformers = new PrefixKeyTransformers([['/registry/secrets/', new PrefixTransformers([{ provider: 'aesgcm', keyName: 'k', secret: key32() }])]]);
    let storage = await LevelDbStorage.open(dir, { transformers });
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-password', namespace: 'default' }, data: { password: SECRET_B64 } };
    try {
      const created = await storage.create(KEY, secret);
      await storage.guaranteedUpdate(KEY, (current) => ({ ...current, data: { password: SECRET_B64, extra: SECRET_B64 } }));
      assert.equal(created.metadata.name, 'db-password');
      await storage.delete(KEY);
    } finally {
      await storage.close();
    }
    const raw = await readRaw(dir);
    assert.equal(raw.log.filter((record) => record.includes(`\n${KEY}\n`)).length, 3);
    assertNoPlaintext({ data: () => '', log: raw.log }, KEY);

    storage = await LevelDbStorage.open(dir, { transformers });
    try {
      const events: StorageEvent[] = [];
      const done = new Promise<void>((resolve, reject) => {
        const handle = storage.watch('/registry/secrets/', { fromRevision: 0 }, {
          onEvent(event) {
            events.push(event);
            if (events.length === 3) { handle.stop(); resolve(); }
          },
          onError: reject,
        });
      });
      await done;
      assert.deepEqual(events.map((event) => event.type), ['ADDED', 'MODIFIED', 'DELETED']);
      assert.deepEqual(events[1].object.data, { password: SECRET_B64, extra: SECRET_B64 });
      assert.deepEqual(events[1].prevObject?.data, { password: SECRET_B64 });
      assert.deepEqual(events[2].object.data, { password: SECRET_B64, extra: SECRET_B64 });
    } finally {
      await storage.close();
    }
  });
});

describe('encryption at rest with the real kubectl and the command line', () => {
  test('kubectl create secret, then rotation: kubectl get secrets -A -o json | kubectl replace -f - moves every secret to the new key', async () => {
    const dir = tempDir();
    const oldKey = { name: 'old', secret: key32().toString('base64') };
    const newKey = { name: 'new', secret: key32().toString('base64') };
    let server = await start(dir, writeConfig(dir, [{ secretbox: { keys: [oldKey] } }], ['secrets'], 'old.yaml'));
    const kubectl = await Kubectl.create(server.adminKubeconfigPath);
    try {
      await kubectl.ok(['create', 'secret', 'generic', 'db-password', `--from-literal=password=${SECRET_TEXT}`]);
    } finally {
      await server.close();
    }
    assert.ok((await readRaw(dir)).data(KEY)?.startsWith('k8s:enc:secretbox:v1:old:'));
    server = await start(dir, writeConfig(dir, [{ secretbox: { keys: [newKey, oldKey] } }], ['secrets'], 'new.yaml'));
    try {
      const all = await kubectl.ok(['get', 'secrets', '-A', '-o', 'json']);
      // --validate=false: kubectl validates a `List` against /openapi/v2 in protobuf, which the server
      // does not serve (JSON only); the objects themselves are validated by the server as usual.
      assert.match(await kubectl.ok(['replace', '--validate=false', '-f', '-'], { input: all }), /secret\/db-password replaced/);
      const value = await kubectl.ok(['get', 'secret', 'db-password', '-o', 'jsonpath={.data.password}']);
      assert.equal(Buffer.from(value, 'base64').toString(), SECRET_TEXT);
    } finally {
      await server.close();
    }
    const raw = await readRaw(dir);
    assert.ok(raw.data(KEY)?.startsWith('k8s:enc:secretbox:v1:new:'));
    assertNoPlaintext(raw, KEY);
  });

  for (const command of ['server', 'up']) {
    test(`kubefacade ${command} with an invalid --encryption-provider-config exits 1 with the reason and creates no data dir`, () => {
      const dir = tempDir();
      const file = join(dir, 'enc.yaml');
      writeFileSync(file, 'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: [{name: k, secret: c2hvcnQ=}]}\n');
      const dataDir = join(dir, 'data');
      const result = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'server', 'cli.ts'), command, '--data-dir', dataDir, '--port', '0', '--encryption-provider-config', file], {
        cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000,
      });
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, /error: error while parsing file: resources\[0\]\.providers\[0\]\.aesgcm\.keys\[0\]\.secret: Invalid value: "REDACTED": secret is not of the expected length, got 5, expected one of \[16 24 32\]/);
      assert.equal(existsSync(dataDir), false);
    });
  }

  test('kubefacade migrate with the config: encrypted values are copied, still encrypted, into the target store', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, [{ aescbc: { keys: [{ name: 'k', secret: key32().toString('base64') }] } }]);
    const server = await start(dir, config);
    try {
      await createSecret(server);
    } finally {
      await server.close();
    }
    const transformers = encryptionTransformers(config);
    const target = join(dir, 'copy');
    const from = await openStoreLocation({ kind: 'leveldb', dataDir: dir }, transformers);
    const to = await openStoreLocation({ kind: 'leveldb', dataDir: target }, transformers);
    try {
      const report = await migrate(from, to);
      assert.ok((report.byResource.secrets ?? 0) >= 1);
      const copied = await to.get(KEY);
      assert.equal((copied?.data as { password: string }).password, SECRET_B64);
    } finally {
      await from.close();
      await to.close();
    }
    const raw = await readRaw(target);
    assert.ok(raw.data(KEY)?.startsWith('k8s:enc:aescbc:v1:k:'));
    assertNoPlaintext(raw, KEY);
  });
});

describe('bad encryption configs are refused before any data is touched', () => {
  const cases: { name: string; text: string; message: RegExp }[] = [
    { name: 'YAML that does not parse', text: 'kind: EncryptionConfiguration\nresources: [\n  - {', message: /error decoding encryption provider configuration file ".*bad\.yaml"/ },
    {
      name: 'an unknown provider',
      text: 'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - rot13: {keys: [{name: k, secret: aGVsbG8=}]}\n',
      message: /resources\[0\]\.providers\[0\]: Invalid value: provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity \(unknown field "rot13"\)/,
    },
    {
      name: 'an aescbc key of the wrong size',
      text: `apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc:\n      keys:\n      - name: short\n        secret: ${Buffer.alloc(8).toString('base64')}\n`,
      message: /resources\[0\]\.providers\[0\]\.aescbc\.keys\[0\]\.secret: Invalid value: "REDACTED": secret is not of the expected length, got 8, expected one of \[16 24 32\]/,
    },
    {
      name: 'a secretbox key of 16 bytes',
      text: `apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - secretbox: {keys: [{name: b, secret: ${randomBytes(16).toString('base64')}}]}\n`,
      message: /secret is not of the expected length, got 16, expected one of \[32\]/,
    },
    {
      name: 'a key that is not base64',
      text: 'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: [{name: k, secret: "not base64!"}]}\n',
      message: /secrets must be base64 encoded/,
    },
    {
      name: 'a kms provider',
      text: 'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - kms: {apiVersion: v2, name: vault, endpoint: unix:///tmp/kms.sock}\n',
      message: /kms providers need an external KMS plugin/,
    },
    {
      name: 'overlapping resources and a bare *',
      text: 'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets, "*.", "*"]\n  providers:\n  - identity: {}\n',
      message: /using overlapping resources such as 'secrets' and '\*\.' in the same resource list is not allowed as they will be masked.*use '\*\.' to encrypt all the resources from core API group or \*\.\* to encrypt all resources/,
    },
    { name: 'a missing file', text: '', message: /error opening encryption provider configuration file/ },
  ];
  for (const { name, text, message } of cases) {
    test(name, async () => {
      const dir = tempDir();
      const file = join(dir, 'bad.yaml');
      if (text !== '') writeFileSync(file, text);
      const dataDir = join(dir, 'data');
      await assert.rejects(start(dataDir, file), message);
      assert.equal(existsSync(dataDir), false, 'nothing was written');
    });
  }
});

describe('encryption at rest (etcd)', () => {
  test('aesgcm values in etcd are upstream bytes (etcd key as authenticated data); rotation by rewrite', async () => {
    const etcd = await startEtcdCluster(1);
    const raw = new Etcd3({ hosts: etcd.endpoints });
    const dir = tempDir();
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const etcdOptions = { kind: 'etcd' as const, endpoints: etcd.endpoints, prefix: '/kf' };
    const startOnEtcd = (config: string): Promise<RunningApiServer> => startApiServer({
      dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'], etcd: etcdOptions, encryptionProviderConfig: config,
    });
    const etcdKey = '/kf/secrets/default/db-password';
    try {
      let server = await startOnEtcd(writeConfig(dir, [{ aesgcm: { keys: [{ name: 'one', secret: oldKey.toString('base64') }] } }], ['secrets'], 'one.yaml'));
      try {
        await createSecret(server);
        assert.equal(await readSecretValue(server), SECRET_TEXT);
      } finally {
        await server.close();
      }
      const stored = await raw.get(etcdKey).buffer() as Buffer;
      const prefix = Buffer.from('k8s:enc:aesgcm:v1:one:');
      assert.ok(stored.subarray(0, prefix.length).equals(prefix));
      assert.ok(!stored.includes(SECRET_B64));
      const payload = stored.subarray(prefix.length);
      const decipher = createDecipheriv('aes-256-gcm', oldKey, payload.subarray(0, 12));
      decipher.setAAD(Buffer.from(etcdKey));
      decipher.setAuthTag(payload.subarray(payload.length - 16));
      assert.match(Buffer.concat([decipher.update(payload.subarray(12, payload.length - 16)), decipher.final()]).toString(), /"password"/);

      server = await startOnEtcd(writeConfig(dir, [{ aesgcm: { keys: [{ name: 'two', secret: newKey.toString('base64') }, { name: 'one', secret: oldKey.toString('base64') }] } }], ['secrets'], 'two.yaml'));
      try {
        assert.equal(await readSecretValue(server), SECRET_TEXT);
        await rewriteSecret(server);
        assert.equal(await readSecretValue(server), SECRET_TEXT);
      } finally {
        await server.close();
      }
      assert.ok((await raw.get(etcdKey).buffer() as Buffer).subarray(0, 22).equals(Buffer.from('k8s:enc:aesgcm:v1:two:')));
    } finally {
      raw.close();
      await etcd.stop();
    }
  });
});
