// The cluster view: every node a box holding its pods as coloured squares, unscheduled pods in a lane
// of their own, NotReady nodes outlined in red and tainted or cordoned ones dashed. Drawn on a canvas
// that only paints the rows in sight, so 5,000 nodes and 150,000 pods cost a frame of the visible part;
// with many nodes (or on request) boxes shrink to bars of counts per state. A table beside it lists
// the nodes in sight with their counts, for keyboards and screen readers.

import type { ClusterStore, NodeView, PodView } from './cluster-store.ts';
import { byId, clear, h } from './dom.ts';
import { POD_STATES, STATE_COLOURS, STATE_DESCRIPTIONS, type PodState } from './pod-state.ts';

const DETAIL = { box: 150, pod: 10, gap: 12, header: 18 };
const COMPACT = { box: 56, gap: 6 };
const COMPACT_ABOVE_NODES = 400;
const TABLE_ROWS = 200;

interface Filter {
  namespace: string;
  labels: [string, string | undefined][];
}

declare global {
  interface Window {
    /**
     * For benchmarks: repaints, latencies from a watch event's arrival to the frame that drew it (ms), and
     * when (epoch ms) each resourceVersion was first drawn.
     */
    kubefacadeUiStats?: { repaints: number; latenciesMs: number[]; paintedAt: Record<string, number> };
  }
}

function parseLabelFilter(text: string): [string, string | undefined][] {
  return text.split(',').map((part) => part.trim()).filter(Boolean).map((part) => {
    const [key, value] = part.split('=');
    return [key.trim(), value === undefined ? undefined : value.trim()];
  });
}

export function mountClusterView(store: ClusterStore, onPickPod: (pod: PodView) => void): void {
  const root = byId('view-cluster');
  const namespaceSelect = h('select', { id: 'cluster-namespace' }, h('option', { value: '' }, 'all namespaces'));
  const labelInput = h('input', { id: 'cluster-labels', type: 'text', placeholder: 'app=web,tier', autocomplete: 'off' });
  const compactToggle = h('input', { id: 'cluster-compact', type: 'checkbox' });
  const legend = h('ul', { class: 'legend', 'aria-label': 'Pods by state' });
  const refusals = h('div', { id: 'cluster-errors', role: 'alert' });
  const lane = h('div', { class: 'lane', id: 'unscheduled', role: 'group', 'aria-label': 'Unscheduled pods' });
  const canvas = h('canvas', { id: 'cluster-canvas', role: 'img', 'aria-label': 'Nodes and their pods' });
  const spacer = h('div', { class: 'spacer' });
  const scroller = h('div', { class: 'canvas-scroller', tabindex: 0, 'aria-label': 'Cluster map (scroll to see more nodes)' }, canvas, spacer);
  const table = h('table', { id: 'node-table' });
  root.append(
    h('div', { class: 'toolbar' },
      h('label', { for: 'cluster-namespace' }, 'Namespace'), namespaceSelect,
      h('label', { for: 'cluster-labels' }, 'Pod labels'), labelInput,
      h('label', { for: 'cluster-compact' }, compactToggle, ' Compact (counts per node)')),
    refusals, legend, lane, scroller,
    h('h2', {}, 'Nodes'), table,
  );
  const filter: Filter = { namespace: '', labels: [] };
  namespaceSelect.addEventListener('change', () => { filter.namespace = namespaceSelect.value; draw(); });
  labelInput.addEventListener('input', () => { filter.labels = parseLabelFilter(labelInput.value); draw(); });
  compactToggle.addEventListener('change', () => draw());
  scroller.addEventListener('scroll', () => paint());
  window.addEventListener('resize', () => draw());
  window.kubefacadeUiStats = { repaints: 0, latenciesMs: [], paintedAt: {} };
  let paintedCount = 0;

  let layout: { nodes: NodeView[]; byNode: Map<string, PodView[]>; compact: boolean; perRow: number; cell: number; rowHeight: number } | undefined;
  const picks: { x: number; y: number; size: number; pod: PodView }[] = [];

  const matches = (pod: PodView): boolean => (!filter.namespace || pod.namespace === filter.namespace)
    && filter.labels.every(([key, value]) => (value === undefined ? key in pod.labels : pod.labels[key] === value));

  // Node names in display order, sorted again only when nodes come or go (a numeric collation of a thousand names
  // every frame was a large part of a redraw).
  const collator = new Intl.Collator(undefined, { numeric: true });
  let sorted = { version: -1, names: [] as string[] };
  function sortedNodes(): NodeView[] {
    if (sorted.version !== store.nodeSetVersion) sorted = { version: store.nodeSetVersion, names: [...store.nodes.keys()].sort(collator.compare) };
    const nodes: NodeView[] = [];
    for (const name of sorted.names) {
      const node = store.nodes.get(name);
      if (node) nodes.push(node);
    }
    return nodes;
  }

  function draw(): void {
    const nodes = sortedNodes();
    const byNode = new Map<string, PodView[]>();
    const unscheduled: PodView[] = [];
    const counts = new Map<PodState, number>();
    const namespaces = new Set<string>();
    for (const pod of store.pods.values()) {
      namespaces.add(pod.namespace);
      if (!matches(pod)) continue;
      counts.set(pod.state, (counts.get(pod.state) ?? 0) + 1);
      if (!pod.node) unscheduled.push(pod);
      else {
        let list = byNode.get(pod.node);
        if (!list) byNode.set(pod.node, (list = []));
        list.push(pod);
      }
    }
    syncNamespaces(namespaces);
    const refusalText = [...store.refusals.values()].join('\n');
    if (refusalText !== shown.refusals) {
      shown.refusals = refusalText;
      clear(refusals);
      for (const message of store.refusals.values()) refusals.append(h('p', { class: 'error' }, message));
    }
    const compact = compactToggle.checked || nodes.length > COMPACT_ABOVE_NODES;
    const width = Math.max(200, scroller.clientWidth - 4);
    const cell = compact ? COMPACT.box + COMPACT.gap : DETAIL.box + DETAIL.gap;
    const perRow = Math.max(1, Math.floor(width / cell));
    const rowHeight = compact ? COMPACT.box + COMPACT.gap : DETAIL.box + DETAIL.gap;
    layout = { nodes, byNode, compact, perRow, cell, rowHeight };
    spacer.style.height = `${Math.ceil(nodes.length / perRow) * rowHeight}px`;
    drawLegend(counts);
    drawLane(unscheduled);
    drawTable(nodes, byNode);
    paint();
  }

  const knownNamespaces = new Set<string>(['']);
  function syncNamespaces(namespaces: Set<string>): void {
    for (const ns of [...namespaces].sort()) {
      if (knownNamespaces.has(ns)) continue;
      knownNamespaces.add(ns);
      namespaceSelect.append(h('option', { value: ns }, ns));
    }
  }

  // The DOM parts are rebuilt only when what they show changed: at thousands of pod changes a second,
  // rebuilding them every frame was most of the page's main-thread time.
  const shown = { legend: '', lane: '', table: '', refusals: '' };

  function drawLegend(counts: Map<PodState, number>): void {
    const signature = POD_STATES.map((state) => counts.get(state) ?? 0).join(',');
    if (signature === shown.legend) return;
    shown.legend = signature;
    clear(legend);
    for (const state of POD_STATES) {
      legend.append(h('li', { 'data-state': state, title: STATE_DESCRIPTIONS[state] },
        h('span', { class: `swatch state-${state}`, 'aria-hidden': 'true' }), `${state}: `, h('strong', {}, counts.get(state) ?? 0)));
    }
  }

  function drawLane(pods: PodView[]): void {
    const signature = `${pods.length}|${pods.slice(0, 200).map((p) => `${p.uid}:${p.state}`).join(',')}`;
    if (signature === shown.lane) return;
    shown.lane = signature;
    clear(lane);
    lane.append(h('span', { class: 'lane-title' }, `Unscheduled: ${pods.length}`));
    for (const pod of pods.slice(0, 200)) {
      const button = h('button', { type: 'button', class: `pod state-${pod.state}`, 'data-pod': `${pod.namespace}/${pod.name}`, 'aria-label': `${pod.namespace}/${pod.name}: ${pod.state}` });
      button.addEventListener('click', () => onPickPod(pod));
      lane.append(button);
    }
    if (pods.length > 200) lane.append(h('span', {}, ` +${pods.length - 200} more`));
  }

  function drawTable(nodes: NodeView[], byNode: Map<string, PodView[]>): void {
    const rows = nodes.slice(0, TABLE_ROWS).map((node) => {
      const pods = byNode.get(node.name) ?? [];
      const states = new Map<PodState, number>();
      for (const pod of pods) states.set(pod.state, (states.get(pod.state) ?? 0) + 1);
      return { node, pods, states };
    });
    const signature = `${nodes.length}|${rows.map(({ node, pods, states }) => `${node.name}:${node.ready}:${node.unschedulable}:${node.taints.join(';')}:${pods.length}:${[...states].join(';')}`).join(',')}`;
    if (signature === shown.table) return;
    shown.table = signature;
    clear(table);
    table.append(h('caption', {}, `${nodes.length} nodes${nodes.length > TABLE_ROWS ? ` (first ${TABLE_ROWS} listed)` : ''}`));
    table.append(h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Node'), h('th', { scope: 'col' }, 'Ready'),
      h('th', { scope: 'col' }, 'Taints'), h('th', { scope: 'col' }, 'Pods'), h('th', { scope: 'col' }, 'By state'))));
    const body = h('tbody');
    for (const { node, pods, states } of rows) {
      body.append(h('tr', { 'data-node': node.name, 'data-ready': node.ready },
        h('th', { scope: 'row' }, node.name),
        h('td', {}, node.ready === 'True' ? 'Ready' : node.ready === 'False' ? 'NotReady' : 'Unknown'),
        h('td', {}, [...node.taints, ...(node.unschedulable ? ['SchedulingDisabled'] : [])].join(', ') || '—'),
        h('td', {}, `${pods.length}/${node.podCapacity}`),
        h('td', {}, [...states].map(([state, count]) => `${state} ${count}`).join(', ') || '—')));
    }
    table.append(body);
  }

  /** Paints the rows in sight. */
  function paint(): void {
    if (!layout) return;
    const { nodes, byNode, compact, perRow, cell, rowHeight } = layout;
    const ratio = window.devicePixelRatio || 1;
    const width = scroller.clientWidth;
    const height = Math.min(scroller.clientHeight || 600, Math.max(rowHeight, Math.ceil(nodes.length / perRow) * rowHeight));
    canvas.width = Math.floor(width * ratio);
    canvas.height = Math.floor(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    canvas.style.top = `${scroller.scrollTop}px`;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    picks.length = 0;
    const firstRow = Math.floor(scroller.scrollTop / rowHeight);
    const lastRow = Math.ceil((scroller.scrollTop + height) / rowHeight);
    for (let row = firstRow; row <= lastRow; row++) {
      for (let col = 0; col < perRow; col++) {
        const node = nodes[row * perRow + col];
        if (!node) break;
        const x = col * cell + 2;
        const y = row * rowHeight - scroller.scrollTop + 2;
        drawNode(ctx, node, byNode.get(node.name) ?? [], x, y, compact);
      }
    }
    const stats = window.kubefacadeUiStats;
    if (stats) {
      const now = performance.now();
      const epoch = performance.timeOrigin + now;
      stats.repaints += 1;
      for (const { resourceVersion, at } of store.pending) {
        stats.latenciesMs.push(now - at);
        if (paintedCount < 500_000 && !(resourceVersion in stats.paintedAt)) {
          stats.paintedAt[resourceVersion] = epoch;
          paintedCount += 1;
        }
      }
      if (stats.latenciesMs.length > 100_000) stats.latenciesMs.splice(0, stats.latenciesMs.length - 100_000);
    }
  }

  function drawNode(ctx: CanvasRenderingContext2D, node: NodeView, pods: PodView[], x: number, y: number, compact: boolean): void {
    const size = compact ? COMPACT.box : DETAIL.box;
    ctx.lineWidth = node.ready === 'True' ? 1 : 3;
    ctx.strokeStyle = node.ready === 'True' ? '#57606a' : '#cf222e';
    ctx.setLineDash(node.taints.length > 0 || node.unschedulable ? [5, 3] : []);
    ctx.strokeRect(x + 0.5, y + 0.5, size, size);
    ctx.setLineDash([]);
    ctx.fillStyle = '#1f2328';
    ctx.font = compact ? '9px system-ui, sans-serif' : '11px system-ui, sans-serif';
    ctx.fillText(node.ready === 'True' ? node.name : `${node.name} (${node.ready === 'False' ? 'NotReady' : 'Unknown'})`, x + 3, y + (compact ? 10 : 13), size - 6);
    if (compact) {
      // One bar: the share of the node's pod capacity in each state.
      const counts = new Map<PodState, number>();
      for (const pod of pods) counts.set(pod.state, (counts.get(pod.state) ?? 0) + 1);
      let offset = 0;
      const barWidth = size - 6;
      for (const state of POD_STATES) {
        const count = counts.get(state) ?? 0;
        if (!count) continue;
        const w = Math.max(1, (count / Math.max(node.podCapacity, pods.length)) * barWidth);
        ctx.fillStyle = STATE_COLOURS[state];
        ctx.fillRect(x + 3 + offset, y + 16, w, size - 22);
        offset += w;
      }
      ctx.fillStyle = '#1f2328';
      ctx.fillText(String(pods.length), x + 3, y + size - 2);
      return;
    }
    const perLine = Math.floor((size - 6) / (DETAIL.pod + 2));
    pods.slice(0, perLine * Math.floor((size - DETAIL.header - 4) / (DETAIL.pod + 2))).forEach((pod, index) => {
      const px = x + 4 + (index % perLine) * (DETAIL.pod + 2);
      const py = y + DETAIL.header + Math.floor(index / perLine) * (DETAIL.pod + 2);
      ctx.fillStyle = STATE_COLOURS[pod.state];
      ctx.fillRect(px, py, DETAIL.pod, DETAIL.pod);
      picks.push({ x: px, y: py, size: DETAIL.pod, pod });
    });
  }

  canvas.addEventListener('click', (event) => {
    const rect = canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    const hit = picks.find((p) => x >= p.x && x < p.x + p.size && y >= p.y && y < p.y + p.size);
    if (hit) onPickPod(hit.pod);
  });

  store.subscribe(draw);
  draw();
}
