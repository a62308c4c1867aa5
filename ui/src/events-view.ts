// The live event stream, grouped per object (as `kubectl describe` groups them), newest object
// first, with filters by text, namespace and type. Fed by one list+watch of core/v1 events.

import { listWatch, type KubeObject } from './api.ts';
import { age, byId, clear, h } from './dom.ts';

interface EventView {
  uid: string;
  namespace: string;
  object: string;
  type: string;
  reason: string;
  message: string;
  from: string;
  count: number;
  time: string;
}

const MAX_GROUPS = 300;

const asRecord = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? value as Record<string, unknown> : {});
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function eventView(event: KubeObject): EventView {
  const involved = asRecord(event.involvedObject);
  const source = asRecord(event.source);
  const from = text(source.component) || text(event.reportingComponent);
  const host = text(source.host);
  return {
    uid: event.metadata.uid ?? `${event.metadata.namespace}/${event.metadata.name}`,
    namespace: event.metadata.namespace ?? '',
    object: `${text(involved.kind).toLowerCase()}/${text(involved.name)}`,
    type: text(event.type) || 'Normal',
    reason: text(event.reason),
    message: text(event.message),
    from: host && from === 'kubelet' ? `${from}, ${host}` : from,
    count: typeof event.count === 'number' ? event.count : 1,
    time: text(event.lastTimestamp) || text(event.eventTime) || text(event.firstTimestamp) || (event.metadata.creationTimestamp ?? ''),
  };
}

export function mountEventsView(onConnection: (connected: boolean) => void): void {
  const root = byId('view-events');
  const search = h('input', { id: 'events-filter', type: 'search', placeholder: 'reason, object or message', autocomplete: 'off' });
  const namespace = h('input', { id: 'events-namespace', type: 'text', placeholder: 'all', autocomplete: 'off' });
  const warningsOnly = h('input', { id: 'events-warnings', type: 'checkbox' });
  const list = h('div', { id: 'events-list', 'aria-live': 'off' });
  root.append(
    h('div', { class: 'toolbar' },
      h('label', { for: 'events-filter' }, 'Filter'), search,
      h('label', { for: 'events-namespace' }, 'Namespace'), namespace,
      h('label', { for: 'events-warnings' }, warningsOnly, ' Warnings only')),
    list,
  );
  const events = new Map<string, EventView>();
  const open = new Set<string>();
  let scheduled = false;

  function draw(): void {
    scheduled = false;
    const needle = search.value.trim().toLowerCase();
    const ns = namespace.value.trim();
    const groups = new Map<string, EventView[]>();
    for (const event of events.values()) {
      if (ns && event.namespace !== ns) continue;
      if (warningsOnly.checked && event.type !== 'Warning') continue;
      if (needle && !`${event.object} ${event.reason} ${event.message} ${event.from}`.toLowerCase().includes(needle)) continue;
      const key = `${event.namespace}/${event.object}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = []));
      group.push(event);
    }
    const ordered = [...groups.entries()]
      .map(([key, items]) => ({ key, items: items.sort((a, b) => a.time.localeCompare(b.time)) }))
      .sort((a, b) => b.items[b.items.length - 1].time.localeCompare(a.items[a.items.length - 1].time))
      .slice(0, MAX_GROUPS);
    clear(list);
    const now = Date.now();
    for (const { key, items } of ordered) {
      const warnings = items.filter((e) => e.type === 'Warning').length;
      const details = h('details', { 'data-object': key, open: open.has(key) },
        h('summary', {}, h('strong', {}, key), ` — ${items.length} event${items.length === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}`),
        h('table', {},
          h('thead', {}, h('tr', {}, ...['Type', 'Reason', 'Age', 'From', 'Message'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, ...items.map((e) => h('tr', { class: e.type === 'Warning' ? 'warning' : '', 'data-reason': e.reason },
            h('td', {}, e.type), h('td', {}, e.reason), h('td', {}, `${age(e.time, now)}${e.count > 1 ? ` (x${e.count})` : ''}`),
            h('td', {}, e.from), h('td', {}, e.message))))));
      details.addEventListener('toggle', () => (details.open ? open.add(key) : open.delete(key)));
      list.append(details);
    }
    if (ordered.length === 0) list.append(h('p', {}, 'No events match.'));
  }

  const redraw = (): void => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(draw);
  };
  for (const input of [search, namespace, warningsOnly]) input.addEventListener('input', redraw);
  listWatch('/api/v1/events', eventView, {
    reset: (items) => {
      events.clear();
      for (const event of items) events.set(event.uid, event);
      redraw();
    },
    event: (type, event) => {
      if (type === 'DELETED') events.delete(event.uid);
      else events.set(event.uid, event);
      redraw();
    },
    connection: onConnection,
  });
}
