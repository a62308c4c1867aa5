// Bitmap allocators persisted in the store, as kube-apiserver's ipallocator/portallocator over
// allocator/bitmap with the etcd-backed RangeAllocation (`/registry/ranges/serviceips`,
// `/registry/ranges/servicenodeports`): one bit per address or port, the range kept beside the bits so a
// changed flag is noticed. Every allocation is a compare-and-swap of that object, so allocations made by
// any replica survive restarts; a release clears the bit. Dynamic picks start at a random offset and
// skip full bytes, so a create costs O(1) amortised until the range is nearly full. Within one server the
// changes of one allocator are made one at a time (upstream holds a lock around its in-memory bitmap for the
// same reason): concurrent creates would otherwise all read the same revision, and all but one CAS would fail
// and retry with the whole bitmap again (32 Service creates in flight timed out after 60 s under load).

import { randomInt } from 'node:crypto';
import { KeyExistsError, type Storage } from '../../storage/interface.ts';
import type { KubeObject } from '../object.ts';

export class RangeFullError extends Error {
  constructor() { super('range is full'); }
}
export class AlreadyAllocatedError extends Error {}
export class NotInRangeError extends Error {}

/** What one allocator hands out: offsets 0..size-1 mapped to values (IPs, ports). */
export interface RangeSpec<V> {
  /** The range as the flag gave it (`10.96.0.0/12`, `30000-32767`), stored with the bits. */
  description: string;
  size: number;
  /** Offset of a value, or undefined when outside the range. */
  offsetOf(value: V): number | undefined;
  valueAt(offset: number): V;
  /** Dynamic allocation prefers offsets >= this (upstream's lower band is kept for static picks). */
  dynamicStart: number;
  alreadyAllocated: string;
  notInRange(value: V): string;
}

function emptyBits(size: number): Buffer {
  return Buffer.alloc(Math.ceil(size / 8));
}

export class PersistedBitmapAllocator<V> {
  /** The tail of this allocator's queue of changes. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly storage: Storage, private readonly key: string, readonly spec: RangeSpec<V>) {}

  /** Creates the RangeAllocation when missing; a stored one for another range is reset (the repair re-marks users). */
  async ensure(): Promise<void> {
    try {
      await this.storage.create(this.key, this.object(emptyBits(this.spec.size)));
    } catch (err) {
      if (!(err instanceof KeyExistsError)) throw err;
      await this.storage.guaranteedUpdate(this.key, (current) => (current.range === this.spec.description ? current : this.object(emptyBits(this.spec.size))));
    }
  }

  /** Allocates `value`; `dryRun` only checks. */
  async allocate(value: V, dryRun = false): Promise<void> {
    const offset = this.spec.offsetOf(value);
    if (offset === undefined) throw new NotInRangeError(this.spec.notInRange(value));
    await this.update((bits) => {
      if (isSet(bits, offset)) throw new AlreadyAllocatedError(this.spec.alreadyAllocated);
      if (dryRun) return false;
      setBit(bits, offset, true);
      return true;
    });
  }

  /** Allocates any free value. */
  async allocateNext(dryRun = false): Promise<V> {
    let chosen = -1;
    await this.update((bits) => {
      chosen = findFree(bits, this.spec.size, this.spec.dynamicStart);
      if (chosen < 0) throw new RangeFullError();
      if (dryRun) return false;
      setBit(bits, chosen, true);
      return true;
    });
    return this.spec.valueAt(chosen);
  }

  async release(values: V[]): Promise<void> {
    const offsets = values.map((v) => this.spec.offsetOf(v)).filter((o): o is number => o !== undefined);
    if (offsets.length === 0) return;
    await this.update((bits) => {
      let changed = false;
      for (const offset of offsets) if (isSet(bits, offset)) { setBit(bits, offset, false); changed = true; }
      return changed;
    });
  }

  /** Whether `value` is marked allocated. */
  async has(value: V): Promise<boolean> {
    const offset = this.spec.offsetOf(value);
    if (offset === undefined) return false;
    return isSet(await this.bits(), offset);
  }

  /** Repair: the bits become exactly the given values (what the stored services use). */
  async reset(used: V[]): Promise<void> {
    const bits = emptyBits(this.spec.size);
    for (const value of used) {
      const offset = this.spec.offsetOf(value);
      if (offset !== undefined) setBit(bits, offset, true);
    }
    await this.storage.guaranteedUpdate(this.key, (current) => (current.data === bits.toString('base64') ? current : this.object(bits)));
  }

  /** Every allocated value (the repair loop compares them with what services use). */
  async values(): Promise<V[]> {
    const bits = await this.bits();
    const out: V[] = [];
    for (let i = 0; i < bits.length; i++) {
      if (bits[i] === 0) continue;
      for (let b = 0; b < 8; b++) if (bits[i] & (1 << b)) out.push(this.spec.valueAt(i * 8 + b));
    }
    return out;
  }

  /** Marks `value` allocated if it is in range and free (repair of a service the bits miss). */
  async mark(value: V): Promise<void> {
    const offset = this.spec.offsetOf(value);
    if (offset === undefined) return;
    await this.update((bits) => {
      if (isSet(bits, offset)) return false;
      setBit(bits, offset, true);
      return true;
    });
  }

  /** Allocated count (tests, metrics). */
  async used(): Promise<number> {
    const bits = await this.bits();
    let count = 0;
    for (const byte of bits) for (let b = byte; b; b &= b - 1) count++;
    return count;
  }

  private async bits(): Promise<Buffer> {
    const current = await this.storage.get(this.key);
    return current && typeof current.data === 'string' ? Buffer.from(current.data, 'base64') : emptyBits(this.spec.size);
  }

  private object(bits: Buffer): KubeObject {
    return { apiVersion: 'v1', kind: 'RangeAllocation', metadata: { name: this.key.slice(this.key.lastIndexOf('/') + 1) }, range: this.spec.description, data: bits.toString('base64') };
  }

  /** Runs `change` on a copy of the bits inside a compare-and-swap; it returns whether to write. */
  private update(change: (bits: Buffer) => boolean): Promise<void> {
    const run = this.queue.then(() => this.storage.guaranteedUpdate(this.key, (current) => {
      const bits = typeof current.data === 'string' && current.range === this.spec.description
        ? Buffer.from(current.data, 'base64') : emptyBits(this.spec.size);
      return change(bits) ? this.object(bits) : current;
    }));
    // The next change waits for this one whatever its outcome (a full range or a taken address is the caller's error).
    this.queue = run.catch(() => undefined);
    return run.then(() => undefined);
  }
}

function isSet(bits: Buffer, offset: number): boolean {
  return (bits[offset >> 3] & (1 << (offset & 7))) !== 0;
}

function setBit(bits: Buffer, offset: number, value: boolean): void {
  if (value) bits[offset >> 3] |= 1 << (offset & 7);
  else bits[offset >> 3] &= ~(1 << (offset & 7));
}

/** A free offset: random start within [start, size), wrapping, then the lower band; -1 when full. */
function findFree(bits: Buffer, size: number, start: number): number {
  const scan = (from: number, to: number): number => {
    if (to <= from) return -1;
    const origin = from + randomInt(to - from);
    for (let i = 0; i < to - from;) {
      const offset = from + ((origin - from + i) % (to - from));
      if ((offset & 7) === 0 && bits[offset >> 3] === 0xff && offset + 8 <= to) { i += 8; continue; }
      if (!isSet(bits, offset)) return offset;
      i++;
    }
    return -1;
  };
  const upper = scan(start, size);
  return upper >= 0 ? upper : scan(0, Math.min(start, size));
}
