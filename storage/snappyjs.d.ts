// snappyjs ships no type declarations; only the decompressor is used (storage/leveldb-integrity.ts).
declare module 'snappyjs' {
  export function uncompress(compressed: Buffer, maxLength?: number): Buffer;
}
