// Objects: a tree of namespaces → kinds → objects (kinds from discovery, objects from a live
// list+watch of the opened kind), the selected object as YAML with managedFields folded away, its
// owners and dependents as links, and apply/delete from the page. Errors are the API server's Status
// messages, verbatim.

import { stringify } from 'yaml';
import { ApiError, getJson, listWatch, type KubeObject, type Watch } from './api.ts';
import { applyObject, basePath, deleteObject, objectPath, parseManifest, resourcesOf, type ResourceInfo } from './apply.ts';
import { byId, clear, h } from './dom.ts';

/** Kinds whose objects are usually owned by another object: where dependents are looked for. */
const DEPENDENT_KINDS = ['Pod', 'ReplicaSet', 'Job', 'ControllerRevision', 'EndpointSlice'];

async function discoverResources(): Promise<ResourceInfo[]> {
  const versions = ['v1'];
  try {
    const groups = await getJson<{ groups: { preferredVersion: { groupVersion: string } }[] }>('/apis');
    versions.push(...groups.groups.map((g) => g.preferredVersion.groupVersion));
  } catch {
    // Only the core group then.
  }
  const lists = await Promise.all(versions.map((v) => resourcesOf(v).catch(() => [] as ResourceInfo[])));
  return lists.flat().filter((r) => r.verbs.includes('list')).sort((a, b) => a.kind.localeCompare(b.kind));
}

const messageOf = (err: unknown): string => (err instanceof ApiError || err instanceof Error ? err.message : String(err));

export function mountObjectsView(): void {
  const root = byId('view-objects');
  const tree = h('ul', { id: 'objects-tree', class: 'tree', 'aria-label': 'Namespaces, kinds and objects' });
  const title = h('h2', { id: 'object-title' }, 'Select an object');
  const yamlView = h('pre', { id: 'object-yaml', tabindex: 0, 'aria-label': 'Object YAML' });
  const managed = h('details', { id: 'object-managed-fields' }, h('summary', {}, 'managedFields'), h('pre', {}));
  const relations = h('div', { id: 'object-relations' });
  const remove = h('button', { type: 'button', id: 'object-delete', disabled: true }, 'Delete');
  const editor = h('textarea', { id: 'objects-yaml', rows: 12, cols: 60, spellcheck: 'false' });
  const apply = h('button', { type: 'button', id: 'objects-apply' }, 'Apply');
  const message = h('p', { id: 'objects-message', role: 'alert' });
  root.append(h('div', { class: 'objects-layout' },
    h('nav', { 'aria-label': 'Object tree' }, tree),
    h('div', { class: 'object-detail' }, title, relations, yamlView, managed, remove,
      h('label', { for: 'objects-yaml' }, 'YAML to apply (server-side apply, field manager kubefacade-ui)'), editor, apply, message)));

  let resources: ResourceInfo[] = [];
  let selected: { info: ResourceInfo; object: KubeObject } | undefined;
  const openWatches = new Map<string, Watch>();

  function select(info: ResourceInfo, object: KubeObject): void {
    selected = { info, object };
    const { managedFields, ...metadata } = object.metadata;
    title.textContent = `${info.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`;
    yamlView.textContent = stringify({ ...object, metadata });
    (managed.querySelector('pre') as HTMLPreElement).textContent = managedFields ? stringify(managedFields) : '(none)';
    remove.disabled = false;
    const editable = { apiVersion: object.apiVersion, kind: object.kind, metadata: { name: metadata.name, namespace: metadata.namespace, labels: metadata.labels }, ...('spec' in object ? { spec: object.spec } : {}), ...('data' in object ? { data: object.data } : {}) };
    editor.value = stringify(editable);
    void showRelations(info, object);
  }

  async function showRelations(info: ResourceInfo, object: KubeObject): Promise<void> {
    clear(relations);
    const owners = object.metadata.ownerReferences ?? [];
    if (owners.length) {
      relations.append(h('p', {}, 'Owners: ', ...owners.map((owner) => link(owner.apiVersion, owner.kind, object.metadata.namespace, owner.name))));
    }
    if (!info.namespaced || !object.metadata.uid) return;
    const found: HTMLElement[] = [];
    for (const candidate of resources.filter((r) => r.namespaced && DEPENDENT_KINDS.includes(r.kind))) {
      try {
        const list = await getJson<{ items: KubeObject[] }>(objectPath(candidate, object.metadata.namespace));
        for (const item of list.items) {
          if (item.metadata.ownerReferences?.some((o) => o.uid === object.metadata.uid)) {
            found.push(link(candidate.base.replace(/^\/apis?\//, ''), candidate.kind, item.metadata.namespace, item.metadata.name ?? ''));
          }
        }
      } catch {
        // Not allowed to list that kind: no dependents shown from it.
      }
    }
    if (selected?.object === object && found.length) relations.append(h('p', {}, 'Dependents: ', ...found));
  }

  function link(apiVersion: string, kind: string, namespace: string | undefined, name: string): HTMLElement {
    const button = h('button', { type: 'button', class: 'link' }, `${kind}/${name}`);
    button.addEventListener('click', async () => {
      try {
        const info = resources.find((r) => r.kind === kind && r.base === basePath(apiVersion)) ?? resources.find((r) => r.kind === kind);
        if (!info) throw new Error(`no matches for kind "${kind}" in version "${apiVersion}"`);
        select(info, await getJson<KubeObject>(objectPath(info, namespace, name)));
      } catch (err) {
        message.textContent = messageOf(err);
      }
    });
    return button;
  }

  function kindNode(info: ResourceInfo, namespace: string | undefined): HTMLElement {
    const key = `${namespace ?? ''}|${info.base}|${info.resource}`;
    const items = h('ul', {});
    const details = h('details', {}, h('summary', {}, info.kind), items);
    details.addEventListener('toggle', () => {
      openWatches.get(key)?.stop();
      openWatches.delete(key);
      if (!details.open) return;
      const objects = new Map<string, KubeObject>();
      const redraw = (): void => {
        clear(items);
        const sorted = [...objects.values()].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
        for (const object of sorted.slice(0, 500)) {
          const button = h('button', { type: 'button', class: 'link', 'data-object': `${info.kind}/${object.metadata.name}` }, object.metadata.name ?? '');
          button.addEventListener('click', () => select(info, object));
          items.append(h('li', {}, button));
        }
        if (sorted.length === 0) items.append(h('li', {}, '(none)'));
      };
      openWatches.set(key, listWatch(objectPath(info, namespace), (o) => o, {
        reset: (list) => {
          objects.clear();
          for (const o of list) objects.set(o.metadata.uid ?? o.metadata.name ?? '', o);
          redraw();
        },
        event: (type, o) => {
          if (type === 'DELETED') objects.delete(o.metadata.uid ?? o.metadata.name ?? '');
          else objects.set(o.metadata.uid ?? o.metadata.name ?? '', o);
          redraw();
        },
      }));
    });
    return h('li', {}, details);
  }

  function namespaceNode(name: string | undefined): HTMLElement {
    const kinds = h('ul', {});
    const details = h('details', { 'data-namespace': name ?? '' }, h('summary', {}, name ?? 'cluster-scoped'), kinds);
    details.addEventListener('toggle', () => {
      if (!details.open || kinds.childElementCount) return;
      for (const info of resources.filter((r) => r.namespaced === (name !== undefined))) kinds.append(kindNode(info, name));
    });
    return h('li', {}, details);
  }

  remove.addEventListener('click', async () => {
    if (!selected) return;
    message.textContent = '';
    try {
      await deleteObject(objectPath(selected.info, selected.object.metadata.namespace, selected.object.metadata.name));
      message.textContent = `${selected.info.kind} "${selected.object.metadata.name}" deleted`;
    } catch (err) {
      message.textContent = messageOf(err);
    }
  });

  apply.addEventListener('click', async () => {
    message.textContent = '';
    try {
      const done: string[] = [];
      for (const object of parseManifest(editor.value)) {
        const applied = await applyObject(object);
        done.push(`${applied.object.kind} "${applied.object.metadata.name}" applied`);
      }
      message.textContent = done.join('; ');
    } catch (err) {
      message.textContent = messageOf(err);
    }
  });

  void (async () => {
    try {
      resources = await discoverResources();
    } catch (err) {
      message.textContent = messageOf(err);
      return;
    }
    tree.append(namespaceNode(undefined));
    const namespaces = new Set<string>();
    listWatch('/api/v1/namespaces', (o) => o.metadata.name ?? '', {
      reset: (names) => {
        for (const name of names) if (!namespaces.has(name)) { namespaces.add(name); tree.append(namespaceNode(name)); }
      },
      event: (type, name) => {
        if (type === 'ADDED' && !namespaces.has(name)) { namespaces.add(name); tree.append(namespaceNode(name)); }
      },
    });
  })();
}
