// The pod journey: pick a pod (or create one from the editor) and watch it travel through the
// control plane. The steps come from the web view's server (GET /ui/journey/<ns>/<pod>, built from
// the API server's request journal, the pod's events and its status); they are fetched again
// whenever the pod or one of its events changes, so each step lights up as it happens.

import { ApiError, getJson, listWatch, type Watch } from './api.ts';
import { applyObject, parseManifest, YamlError } from './apply.ts';
import type { ClusterStore, PodView } from './cluster-store.ts';
import { byId, clear, h } from './dom.ts';

interface JourneyStep {
  id: string;
  component: string;
  title: string;
  state: 'done' | 'pending' | 'failed';
  time?: string;
  actor?: string;
  detail?: string;
}

interface PodJourney {
  namespace: string;
  name: string;
  uid?: string;
  nodeName?: string;
  steps: JourneyStep[];
}

const COMPONENT_NAMES: Record<string, string> = {
  client: 'Client', 'api-server': 'API server', store: 'Store', scheduler: 'Scheduler', kubelet: 'Kubelet',
};

export const EXAMPLE_POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports: [{containerPort: 80}]
  - name: redis
    image: redis:7
`;

export interface JourneyView {
  show(namespace: string, name: string): void;
}

export function mountJourneyView(store: ClusterStore): JourneyView {
  const root = byId('view-journey');
  const picker = h('select', { id: 'journey-pod' }, h('option', { value: '' }, 'choose a pod'));
  const editor = h('textarea', { id: 'journey-yaml', rows: 14, cols: 48, spellcheck: 'false' }, EXAMPLE_POD);
  const create = h('button', { type: 'button', id: 'journey-create' }, 'Create');
  const message = h('p', { id: 'journey-message', role: 'alert' });
  const flow = h('ol', { id: 'journey-steps', class: 'flow', 'aria-label': 'Steps of the pod\'s creation' });
  const diagram = h('ol', { id: 'journey-components', class: 'components', 'aria-label': 'Components the pod passes through' });
  const heading = h('h2', { id: 'journey-title' }, 'Pod journey');
  root.append(
    h('div', { class: 'journey-layout' },
      h('div', { class: 'journey-controls' },
        h('label', { for: 'journey-pod' }, 'Pod'), picker,
        h('label', { for: 'journey-yaml' }, 'Create a pod from YAML'), editor, create, message),
      h('div', { class: 'journey-flow' }, heading, diagram, flow)),
  );

  let current: { namespace: string; name: string } | undefined;
  let eventWatch: Watch | undefined;
  let fetching = false;
  let again = false;
  // When each step first lit (a page-wide counter), so the order in which they lit can be read off the page.
  const litAt = new Map<string, number>();
  let litCounter = 0;

  function syncPicker(): void {
    // Sorting every pod is only worth it while the picker can be seen.
    if (root.hidden) return;
    const pods = [...store.pods.values()].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
    const wanted = pods.slice(0, 2000).map((p) => `${p.namespace}/${p.name}`);
    const selected = current ? `${current.namespace}/${current.name}` : '';
    const existing = [...picker.options].slice(1).map((o) => o.value);
    if (existing.join('\n') === wanted.join('\n')) return;
    clear(picker);
    picker.append(h('option', { value: '' }, 'choose a pod'));
    for (const key of wanted) picker.append(h('option', { value: key }, key));
    if (selected && !wanted.includes(selected)) picker.append(h('option', { value: selected }, selected));
    picker.value = selected;
  }

  async function refresh(): Promise<void> {
    if (!current) return;
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    const target = current;
    try {
      const journey = await getJson<PodJourney>(`/ui/journey/${encodeURIComponent(target.namespace)}/${encodeURIComponent(target.name)}`);
      if (current === target) render(journey);
    } catch (err) {
      if (current === target) message.textContent = err instanceof Error ? err.message : String(err);
    } finally {
      fetching = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  }

  /** One box per component, lit when all of its steps are done (red when one failed). */
  function renderDiagram(journey: PodJourney): void {
    clear(diagram);
    const components = [...new Set(journey.steps.map((s) => s.component))];
    for (const component of components) {
      const steps = journey.steps.filter((s) => s.component === component);
      const done = steps.filter((s) => s.state === 'done').length;
      const state = steps.some((s) => s.state === 'failed') ? 'failed' : done === steps.length ? 'done' : done > 0 ? 'active' : 'pending';
      diagram.append(h('li', { class: `component-box component-${state}`, 'data-component': component, 'data-state': state },
        h('strong', {}, COMPONENT_NAMES[component] ?? component), h('span', {}, `${done}/${steps.length} steps`)));
    }
  }

  function render(journey: PodJourney): void {
    renderDiagram(journey);
    heading.textContent = `Pod journey: ${journey.namespace}/${journey.name}${journey.nodeName ? ` on ${journey.nodeName}` : ''}`;
    clear(flow);
    const start = journey.steps.map((s) => (s.time ? Date.parse(s.time) : NaN)).find((t) => !Number.isNaN(t));
    let lastComponent = '';
    for (const step of journey.steps) {
      if (step.state !== 'pending' && !litAt.has(step.id)) litAt.set(step.id, ++litCounter);
      // Event timestamps have whole seconds; the journal's have microseconds: show what the source knows.
      const precise = step.time?.includes('.') ?? false;
      const offset = step.time && start !== undefined ? `+${((Date.parse(step.time) - start) / 1000).toFixed(precise ? 3 : 0)} s` : '';
      const componentChanged = step.component !== lastComponent;
      lastComponent = step.component;
      flow.append(h('li', {
        class: `step step-${step.state}${componentChanged ? ' component-start' : ''}`,
        'data-step': step.id, 'data-state': step.state, 'data-component': step.component,
        'data-lit': litAt.get(step.id) ?? '',
      },
      h('span', { class: 'component' }, COMPONENT_NAMES[step.component] ?? step.component),
      h('span', { class: 'title' }, step.title),
      h('span', { class: 'state' }, step.state === 'done' ? '✓ done' : step.state === 'failed' ? '✗ failed' : '… waiting'),
      step.time ? h('time', { datetime: step.time, title: step.time }, offset || step.time) : null,
      step.actor ? h('span', { class: 'actor' }, step.actor) : null,
      step.detail ? h('span', { class: 'detail' }, step.detail) : null));
    }
  }

  function show(namespace: string, name: string): void {
    current = { namespace, name };
    litAt.clear();
    message.textContent = '';
    clear(flow);
    syncPicker();
    picker.value = `${namespace}/${name}`;
    eventWatch?.stop();
    // The pod's events drive refreshes besides the pod itself (which the cluster store watches).
    const selector = encodeURIComponent(`involvedObject.kind=Pod,involvedObject.name=${name}`);
    eventWatch = listWatch(`/api/v1/namespaces/${encodeURIComponent(namespace)}/events?fieldSelector=${selector}`, () => null, {
      reset: () => void refresh(),
      event: () => void refresh(),
    });
    void refresh();
  }

  let lastSeen = '';
  store.subscribe(() => {
    syncPicker();
    if (!current) return;
    const pod = [...store.pods.values()].find((p: PodView) => p.namespace === current!.namespace && p.name === current!.name);
    const seen = pod ? `${pod.uid}:${pod.state}:${pod.node}:${pod.ready}` : 'gone';
    if (seen !== lastSeen) {
      lastSeen = seen;
      void refresh();
    }
  });

  picker.addEventListener('change', () => {
    const [namespace, ...rest] = picker.value.split('/');
    if (namespace && rest.length) show(namespace, rest.join('/'));
  });

  create.addEventListener('click', async () => {
    message.textContent = '';
    try {
      const objects = parseManifest(editor.value);
      for (const object of objects) {
        const applied = await applyObject(object);
        if (applied.object.kind === 'Pod') show(applied.object.metadata.namespace ?? 'default', applied.object.metadata.name ?? '');
      }
    } catch (err) {
      message.textContent = err instanceof YamlError || err instanceof ApiError || err instanceof Error ? err.message : String(err);
    }
  });

  // The picker is filled when the view is shown (it skips updates while hidden).
  new MutationObserver(() => syncPicker()).observe(root, { attributes: true, attributeFilter: ['hidden'] });
  syncPicker();
  return { show };
}
