// Where storage keys live in etcd. Our keys are laid out as kube-apiserver lays them out with its
// default `--etcd-prefix /registry` (`/registry/pods/<ns>/<name>`), so with the default prefix a
// key is its own etcd key and etcdctl shows the familiar layout. Another prefix replaces the
// leading `/registry` (`--etcd-prefix /cluster-a` → `/cluster-a/pods/<ns>/<name>`), which lets
// several clusters (or test cases) share one etcd. Byte order in etcd equals string order here
// because the mapping only swaps a common prefix.

const STORAGE_ROOT = '/registry';

export interface EtcdRange {
  start: Buffer;
  /** Exclusive end (etcd's range_end). */
  end: Buffer;
}

export class EtcdKeyspace {
  /** Normalised: a leading `/`, no trailing `/` ('' for the root). */
  readonly prefix: string;

  constructor(prefix = STORAGE_ROOT) {
    const trimmed = prefix.replace(/\/+$/, '');
    this.prefix = trimmed === '' ? '' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
  }

  /** The etcd key of a storage key (which must start with `/registry/`). */
  toEtcd(key: string): Buffer {
    if (!key.startsWith(`${STORAGE_ROOT}/`)) throw new Error(`storage key outside ${STORAGE_ROOT}/: ${key}`);
    return Buffer.from(this.prefix + key.slice(STORAGE_ROOT.length));
  }

  fromEtcd(key: Buffer): string {
    return STORAGE_ROOT + key.toString().slice(this.prefix.length);
  }

  /**
   * The etcd range holding every storage key that starts with `storagePrefix`; undefined when no
   * storage key can (a prefix outside `/registry/`). '' and `/` mean everything under the prefix.
   */
  range(storagePrefix: string): EtcdRange | undefined {
    let start: Buffer;
    if (storagePrefix.startsWith(`${STORAGE_ROOT}/`)) start = this.toEtcd(storagePrefix);
    else if (`${STORAGE_ROOT}/`.startsWith(storagePrefix)) start = Buffer.from(`${this.prefix}/`);
    else return undefined;
    return { start, end: prefixEnd(start) };
  }

  /** The first etcd key after `key` (to resume a range strictly after it). */
  static after(key: Buffer): Buffer {
    return Buffer.concat([key, Buffer.from([0])]);
  }
}

/** The smallest key greater than every key starting with `prefix` (etcd's clientv3.GetPrefixRangeEnd). */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff: no upper bound; etcd reads "\0" as "to the end of the keyspace".
  return Buffer.from([0]);
}
