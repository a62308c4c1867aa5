// The web view's entry point: log in (a one-time code from the link `kubefacade up` printed, taken
// from the URL fragment and removed from the address bar at once, or a pasted bearer token), then
// the four views behind keyboard-navigable tabs. A session that ends (token expired, server
// restarted) brings the login screen back instead of a blank page.

import { ApiError, getJson, request, whenUnauthorized } from './api.ts';
import { ClusterStore } from './cluster-store.ts';
import { mountClusterView } from './cluster-view.ts';
import { byId } from './dom.ts';
import { mountEventsView } from './events-view.ts';
import { mountJourneyView, type JourneyView } from './journey-view.ts';
import { mountObjectsView } from './objects-view.ts';

interface Identity {
  username: string;
  groups: string[];
}

const TABS = ['cluster', 'journey', 'events', 'objects'] as const;
type Tab = (typeof TABS)[number];

function showLogin(message = ''): void {
  byId('login').hidden = false;
  byId('tabs').hidden = true;
  byId('logout').hidden = true;
  for (const tab of TABS) byId(`view-${tab}`).hidden = true;
  byId('login-error').textContent = message;
  byId<HTMLInputElement>('login-token').focus();
}

function selectTab(tab: Tab, focus = false): void {
  for (const other of TABS) {
    const button = byId(`tab-${other}`);
    const selected = other === tab;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    byId(`view-${other}`).hidden = !selected;
    if (selected && focus) button.focus();
  }
}

function wireTabs(): void {
  TABS.forEach((tab, index) => {
    const button = byId(`tab-${tab}`);
    button.addEventListener('click', () => selectTab(tab));
    // Arrow keys move between tabs, as the WAI-ARIA tabs pattern has it.
    button.addEventListener('keydown', (event) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (event.key === 'Home' || event.key === 'End') {
        event.preventDefault();
        selectTab(event.key === 'Home' ? TABS[0] : TABS[TABS.length - 1], true);
      } else if (step) {
        event.preventDefault();
        selectTab(TABS[(index + step + TABS.length) % TABS.length], true);
      }
    });
  });
}

let started = false;

function startViews(identity: Identity): void {
  byId('login').hidden = true;
  byId('tabs').hidden = false;
  byId('logout').hidden = false;
  byId('whoami').textContent = `${identity.username}${identity.groups.length ? ` (${identity.groups.join(', ')})` : ''}`;
  selectTab('cluster');
  if (started) return;
  started = true;
  const banner = byId('banner');
  const connection = (connected: boolean): void => {
    banner.hidden = connected;
    banner.textContent = connected ? '' : 'Disconnected from the API server: reconnecting…';
  };
  const store = new ClusterStore(connection);
  let journey: JourneyView | undefined;
  mountClusterView(store, (pod) => {
    journey?.show(pod.namespace, pod.name);
    selectTab('journey', true);
  });
  journey = mountJourneyView(store);
  mountEventsView(connection);
  mountObjectsView();
  store.start();
}

async function login(body: { code: string } | { token: string }): Promise<void> {
  try {
    startViews(await request<Identity>('POST', '/ui/login', JSON.stringify(body)));
  } catch (err) {
    showLogin(err instanceof ApiError || err instanceof Error ? err.message : String(err));
  }
}

async function boot(): Promise<void> {
  wireTabs();
  whenUnauthorized(() => showLogin('Your session has ended: log in again.'));
  byId('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('login-token');
    const token = input.value;
    input.value = '';
    void login({ token });
  });
  byId('logout').addEventListener('click', async () => {
    await request('POST', '/ui/logout').catch(() => undefined);
    location.reload();
  });
  const code = new URLSearchParams(location.hash.slice(1)).get('login');
  if (code) {
    // The code is spent by this request; it leaves the address bar (and history) before anything else.
    history.replaceState(null, '', location.pathname);
    await login({ code });
    return;
  }
  try {
    startViews(await getJson<Identity>('/ui/session'));
  } catch {
    showLogin();
  }
}

void boot();
