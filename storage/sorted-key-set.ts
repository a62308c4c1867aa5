// An ordered set of strings for the watch cache's key index: a list of sorted blocks (at most
// BLOCK_MAX keys each). Insert and delete touch one block (O(log n + BLOCK_MAX)), seeking is two
// binary searches, and iterating from a key is a plain walk, so a paged list of a prefix among
// 150,000 keys never sorts or copies the whole set.

const BLOCK_MAX = 512;

export class SortedKeySet {
  private blocks: string[][] = [[]];
  private total = 0;

  get size(): number {
    return this.total;
  }

  has(key: string): boolean {
    const block = this.blocks[this.blockFor(key)];
    const at = lowerBound(block, key);
    return at < block.length && block[at] === key;
  }

  /** Returns false if the key was already present. */
  add(key: string): boolean {
    const index = this.blockFor(key);
    const block = this.blocks[index];
    const at = lowerBound(block, key);
    if (at < block.length && block[at] === key) return false;
    block.splice(at, 0, key);
    this.total++;
    if (block.length > BLOCK_MAX) this.blocks.splice(index + 1, 0, block.splice(BLOCK_MAX >> 1));
    return true;
  }

  /** Returns false if the key was absent. */
  delete(key: string): boolean {
    const index = this.blockFor(key);
    const block = this.blocks[index];
    const at = lowerBound(block, key);
    if (at >= block.length || block[at] !== key) return false;
    block.splice(at, 1);
    this.total--;
    if (block.length === 0 && this.blocks.length > 1) this.blocks.splice(index, 1);
    return true;
  }

  /** Number of keys strictly less than `key`. */
  rank(key: string): number {
    const index = this.blockFor(key);
    let before = 0;
    for (let i = 0; i < index; i++) before += this.blocks[i].length;
    return before + lowerBound(this.blocks[index], key);
  }

  /** Keys in order, starting at the first key >= `from` (or > `from` when `exclusive`). */
  *from(from: string, exclusive = false): Generator<string> {
    let index = this.blockFor(from);
    let at = lowerBound(this.blocks[index], from);
    const first = this.blocks[index];
    if (exclusive && at < first.length && first[at] === from) at++;
    for (; index < this.blocks.length; index++, at = 0) {
      const block = this.blocks[index];
      for (; at < block.length; at++) yield block[at];
    }
  }

  /** The block where `key` is or would be inserted: the first whose last key is >= key (else the last block). */
  private blockFor(key: string): number {
    let low = 0;
    let high = this.blocks.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      const block = this.blocks[mid];
      if (block[block.length - 1] < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

function lowerBound(block: string[], key: string): number {
  let low = 0;
  let high = block.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (block[mid] < key) low = mid + 1;
    else high = mid;
  }
  return low;
}
