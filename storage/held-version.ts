// One version of an object in the watch cache's history. While it is the current object the
// version holds the parsed object (shared with the cache's object map, so it costs nothing extra);
// once superseded it keeps only its JSON text, which is several times smaller than the parsed
// object, and parses it again on the rare reads of old state (watch replay, list at a revision).

import type { KubeObject } from '../api/object.ts';
import { objectJson, parseStoredJson } from './object-json.ts';

export class HeldVersion {
  private object: KubeObject | undefined;
  private text: string | undefined;
  /** The last parse of the text, shared by readers while any of them still holds it (1,000 watchers replaying one event). */
  private reparsed: WeakRef<KubeObject> | undefined;

  constructor(object: KubeObject) {
    this.object = object;
  }

  get compacted(): boolean {
    return this.object === undefined;
  }

  /** The object; after compaction a parse of the text (read-only, like every stored object). */
  get(): KubeObject {
    if (this.object) return this.object;
    const live = this.reparsed?.deref();
    if (live) return live;
    const parsed = parseStoredJson(this.text as string);
    this.reparsed = new WeakRef(parsed);
    return parsed;
  }

  /** Superseded: keep only the JSON text (the one the backend remembered as it wrote the object). */
  compact(): void {
    if (!this.object) return;
    this.text = objectJson(this.object);
    this.object = undefined;
  }
}
