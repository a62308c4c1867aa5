// The web view in headless Chromium (Debian's `chromium`, driven by playwright-core) against
// `kubefacade up` as a user starts it: log in through the printed link, see three Ready nodes, create
// the README's pod from the journey's editor and watch every step light up in order with its actor,
// a crash-looping pod coloured as such, events and objects, a forbidden user's Forbidden message, a
// spent login link, and the accessibility basics. Screenshots of each view are saved
// (KUBEFACADE_SCREENSHOT_DIR, default a temp dir) and compared by structure, not by pixels.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT, startCli, type CliProcess } from './helpers/cluster-processes.ts';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { startUiServer, type RunningUi } from '../server/ui/ui-server.ts';
import { STATE_COLOURS, contrastRatio } from '../ui/src/pod-state.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const CRASHING_POD = `apiVersion: v1
kind: Pod
metadata:
  name: crasher
spec:
  containers:
  - name: app
    image: busybox:1.36
    command: ["sh", "-c", "exit 1"]
`;

/** What a view shows, as structure: its landmarks and controls by id and role, sorted. */
async function outline(page: Page, panel: string): Promise<string[]> {
  return page.$$eval(`#tabs, #${panel} [id], #${panel} [role]`, (elements) => [...new Set(elements
    .filter((e) => (e as HTMLElement).offsetParent !== null || e.id === 'tabs')
    .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.getAttribute('role') ? `[${e.getAttribute('role')}]` : ''}`))].sort());
}

describe('web view in a browser', () => {
  let dataDir: string;
  let shots: string;
  let up: CliProcess;
  let browser: Browser;
  let page: Page;
  let link: string;

  const screenshot = async (name: string, panel: string, expected: string[]): Promise<void> => {
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    const structure = await outline(page, panel);
    for (const item of expected) assert.ok(structure.includes(item), `the ${name} view lacks ${item}: ${structure.join(', ')}`);
  };

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `headless Chromium is required at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
    if (!existsSync(join(REPO_ROOT, 'ui/dist/index.html'))) {
      const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-ui.ts'], { cwd: REPO_ROOT, encoding: 'utf8' });
      assert.equal(built.status, 0, built.stderr);
    }
    dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-ui-'));
    shots = process.env.KUBEFACADE_SCREENSHOT_DIR ?? join(dataDir, 'screenshots');
    await mkdir(shots, { recursive: true });
    up = startCli(['up', '--data-dir', dataDir, '--port', '0', '--kubelet-port', '0', '--ui-port', '0', '--nodes', '3', '--image-pull-delay', '200ms']);
    [, link] = await up.waitForOutput(/web view: (http:\/\/127\.0\.0\.1:\d+\/#login=\S+)/, 90_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  });

  after(async () => {
    await browser?.close();
    await up?.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('the printed link logs in once, leaves no credential in the URL, and shows three Ready nodes', async () => {
    await page.goto(link);
    await page.waitForSelector('#tabs:not([hidden])');
    assert.equal(new URL(page.url()).hash, '', 'the login code left the address bar');
    assert.match(await page.textContent('#whoami') ?? '', /^kubernetes-admin/);
    await page.waitForFunction(() => document.querySelectorAll('#node-table tr[data-ready="True"]').length === 3, null, { timeout: 60_000 });
    const rows = await page.$$eval('#node-table tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-node'), tr.children[1].textContent]));
    assert.deepEqual(rows, [['node01', 'Ready'], ['node02', 'Ready'], ['node03', 'Ready']]);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    assert.equal(stored, '{}{}', 'no credential in browser storage or script-readable cookies');
    await screenshot('cluster', 'view-cluster', ['canvas#cluster-canvas[img]', 'table#node-table', 'div#unscheduled[group]', 'nav#tabs[tablist]']);
  });

  test('a pod created from the journey editor lights every step in order, each with its actor', async () => {
    await page.click('#tab-journey');
    await page.click('#journey-create');
    await page.waitForFunction(() => {
      const steps = [...document.querySelectorAll('#journey-steps li')];
      return steps.length > 0 && steps.every((s) => s.getAttribute('data-state') === 'done');
    }, null, { timeout: 60_000 });
    const steps = await page.$$eval('#journey-steps li', (lis) => lis.map((li) => ({
      id: li.getAttribute('data-step') ?? '', lit: Number(li.getAttribute('data-lit')), actor: li.querySelector('.actor')?.textContent ?? '',
      detail: li.querySelector('.detail')?.textContent ?? '',
    })));
    const byId = new Map(steps.map((s) => [s.id, s]));
    assert.deepEqual(steps.map((s) => s.id), ['sent', 'received', 'authenticated', 'authorized', 'admitted', 'stored', 'scheduled', 'bound', 'kubelet-seen',
      'nginx-pulling', 'nginx-pulled', 'nginx-created', 'nginx-started', 'redis-pulling', 'redis-pulled', 'redis-created', 'redis-started', 'ready']);
    assert.match(byId.get('sent')!.actor, /^kubefacade-ui/);
    assert.equal(byId.get('received')!.actor, 'kubernetes-admin');
    assert.equal(byId.get('scheduled')!.actor, 'default-scheduler');
    // The filtering step: the scheduler's own count, sent with its binding (three Ready nodes, all feasible).
    assert.match(byId.get('scheduled')!.detail, /^Successfully assigned default\/\S+ to node0\d; 3 of 3 evaluated nodes feasible$/);
    assert.equal(byId.get('bound')!.actor, 'system:kube-scheduler');
    const node = /kubelet \((node0\d)\)/.exec(byId.get('nginx-pulling')!.actor)?.[1];
    assert.ok(node, `a kubelet actor: ${byId.get('nginx-pulling')!.actor}`);
    for (const id of ['nginx-started', 'redis-pulling', 'redis-started', 'ready']) assert.equal(byId.get(id)!.actor, `kubelet (${node})`);
    // Lit in order: the request before the scheduler, the scheduler before the containers, each container's stages in turn, Ready last.
    const lit = (id: string): number => byId.get(id)!.lit;
    const inOrder = (earlier: string[], later: string[]): void => {
      for (const a of earlier) for (const b of later) assert.ok(lit(a) <= lit(b), `${a} (lit ${lit(a)}) lit after ${b} (lit ${lit(b)})`);
    };
    inOrder(['received', 'authorized', 'stored'], ['scheduled', 'bound']);
    inOrder(['scheduled', 'bound'], ['nginx-pulling', 'redis-pulling', 'ready']);
    for (const c of ['nginx', 'redis']) {
      inOrder([`${c}-pulling`], [`${c}-pulled`]);
      inOrder([`${c}-pulled`], [`${c}-created`]);
      inOrder([`${c}-created`], [`${c}-started`]);
      // Not Ready against the Started events: the kubelet writes status and events separately (events go
      // through its recorder's queue), so Ready may arrive before the last Started event, as on a real node.
    }
    const components = await page.$$eval('#journey-components li', (lis) => lis.map((li) => `${li.getAttribute('data-component')}:${li.getAttribute('data-state')}`));
    assert.deepEqual(components, ['client:done', 'api-server:done', 'store:done', 'scheduler:done', 'kubelet:done']);
    await screenshot('journey', 'view-journey', ['ol#journey-steps', 'ol#journey-components', 'textarea#journey-yaml', 'select#journey-pod', 'p#journey-message[alert]']);
  });

  test('a crash-looping pod is coloured as such', async () => {
    await page.click('#tab-objects');
    await page.fill('#objects-yaml', CRASHING_POD);
    await page.click('#objects-apply');
    await page.waitForFunction(() => (document.querySelector('#objects-message')?.textContent ?? '').includes('Pod "crasher" applied'), null, { timeout: 30_000 });
    await page.click('#tab-cluster');
    await page.waitForFunction(() => document.querySelector('.legend li[data-state="CrashLoopBackOff"] strong')?.textContent === '1', null, { timeout: 60_000 });
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(STATE_COLOURS.CrashLoopBackOff.slice(i, i + 2), 16));
    const painted = await page.evaluate(([red, green, blue]) => {
      const canvas = document.querySelector<HTMLCanvasElement>('#cluster-canvas')!;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < data.length; i += 4) if (data[i] === red && data[i + 1] === green && data[i + 2] === blue) return true;
      return false;
    }, [r, g, b]);
    assert.ok(painted, 'the crash-looping pod is drawn in the CrashLoopBackOff colour');
    await screenshot('cluster-crashloop', 'view-cluster', ['canvas#cluster-canvas[img]']);
  });

  test('events are grouped per object, live', async () => {
    await page.click('#tab-events');
    await page.waitForSelector('#events-list details[data-object="default/pod/web"]');
    await page.click('#events-list details[data-object="default/pod/web"] summary');
    const reasons = await page.$$eval('#events-list details[data-object="default/pod/web"] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-reason')));
    for (const reason of ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']) assert.ok(reasons.includes(reason), `${reason} in ${reasons.join(', ')}`);
    await page.fill('#events-filter', 'BackOff');
    await page.waitForSelector('#events-list details[data-object="default/pod/crasher"]', { timeout: 30_000 });
    // The crasher's group was there before the filter: wait for the redraw that hides the others.
    await page.waitForSelector('#events-list details[data-object="default/pod/web"]', { state: 'detached', timeout: 10_000 });
    assert.equal(await page.$('#events-list details[data-object="default/pod/web"]'), null, 'the filter hides the others');
    await page.fill('#events-filter', '');
    await screenshot('events', 'view-events', ['div#events-list', 'input#events-filter']);
  });

  test('objects: YAML with managedFields folded, owners, and server errors shown verbatim', async () => {
    await page.click('#tab-objects');
    await page.click('#objects-tree details[data-namespace="default"] > summary');
    await page.click('#objects-tree details[data-namespace="default"] summary:text-is("Pod")');
    await page.click('#objects-tree button[data-object="Pod/web"]');
    await page.waitForFunction(() => (document.querySelector('#object-yaml')?.textContent ?? '').includes('name: web'));
    const yamlText = await page.textContent('#object-yaml') ?? '';
    assert.doesNotMatch(yamlText, /managedFields/, 'managedFields are folded away');
    assert.equal(await page.$eval('#object-managed-fields', (d) => (d as HTMLDetailsElement).open), false);
    await page.fill('#objects-yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\n  labels: [a\n');
    await page.click('#objects-apply');
    await page.waitForFunction(() => /^YAML error at line \d+, column \d+/.test(document.querySelector('#objects-message')?.textContent ?? ''));
    await page.fill('#objects-yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers: []\n');
    await page.click('#objects-apply');
    await page.waitForFunction(() => /^(?!YAML error)./.test(document.querySelector('#objects-message')?.textContent ?? ''), null, { timeout: 10_000 })
      .catch(async (err: unknown) => { throw new Error(`${String(err)}; message: ${await page.textContent('#objects-message')}`); });
    const refusal = await page.textContent('#objects-message') ?? '';
    assert.match(refusal, /^Pod "bad" is invalid: spec\.containers: Required value/, 'the API server\'s Status message, verbatim');
    await screenshot('objects', 'view-objects', ['ul#objects-tree', 'pre#object-yaml', 'details#object-managed-fields', 'textarea#objects-yaml', 'p#objects-message[alert]']);
  });

  test('a spent or wrong login shows the login screen, never a blank page', async () => {
    const context = await browser.newContext();
    const other = await context.newPage();
    await other.goto(link);
    await other.waitForSelector('#login:not([hidden])');
    assert.equal(await other.textContent('#login-error'), 'this login link has expired or was already used: ask for a new one');
    await other.fill('#login-token', 'garbage');
    await other.click('#login-form button');
    await other.waitForFunction(() => (document.querySelector('#login-error')?.textContent ?? '').length > 0 && document.querySelector('#login-error')?.textContent !== 'this login link has expired or was already used: ask for a new one');
    assert.match(await other.textContent('#login-error') ?? '', /Unauthorized/);
    await context.close();
  });

  test('a user without rights sees the server\'s Forbidden message', async () => {
    const minted = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'server/cli.ts'), 'token', 'create', '--user', 'alice', '--data-dir', dataDir, '--ttl', '10m'], { encoding: 'utf8' });
    assert.equal(minted.status, 0, minted.stderr);
    const context = await browser.newContext();
    const alice = await context.newPage();
    await alice.goto(new URL(link).origin);
    await alice.waitForSelector('#login:not([hidden])');
    await alice.fill('#login-token', minted.stdout.trim());
    await alice.click('#login-form button');
    await alice.waitForSelector('#tabs:not([hidden])');
    assert.match(await alice.textContent('#whoami') ?? '', /^alice/);
    await alice.waitForFunction(() => document.querySelectorAll('#cluster-errors p').length === 2, null, { timeout: 30_000 });
    const errors = await alice.textContent('#cluster-errors') ?? '';
    assert.ok(errors.includes('pods is forbidden: User "alice" cannot list resource "pods" in API group "" at the cluster scope'), errors);
    assert.ok(errors.includes('nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope'), errors);
    await context.close();
  });

  test('accessibility: keyboard reaches every control, controls are labelled, phase colours contrast', async () => {
    for (const [state, colour] of Object.entries(STATE_COLOURS)) {
      assert.ok(contrastRatio(colour, '#ffffff') >= 3, `${state} ${colour} has contrast ${contrastRatio(colour, '#ffffff').toFixed(2)} < 3 with the background`);
    }
    // The tabs follow the WAI-ARIA pattern: arrow keys move between them.
    await page.focus('#tab-cluster');
    await page.click('#tab-cluster');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-journey');
    assert.equal(await page.getAttribute('#tab-journey', 'aria-selected'), 'true');
    for (const view of ['cluster', 'journey', 'events', 'objects']) {
      await page.click(`#tab-${view}`);
      const unlabelled = await page.$$eval(`#view-${view} input, #view-${view} select, #view-${view} textarea`, (controls) => controls
        .filter((c) => (c as HTMLInputElement).labels?.length === 0 && !c.getAttribute('aria-label')).map((c) => c.id || c.outerHTML.slice(0, 60)));
      assert.deepEqual(unlabelled, [], `unlabelled controls in the ${view} view`);
      // Tab from the view's tab through the panel: every visible control must receive focus.
      const controls = await page.$$eval(`#view-${view} button, #view-${view} input, #view-${view} select, #view-${view} textarea, #view-${view} summary, #view-${view} [tabindex="0"]`,
        (elements) => elements.filter((e) => (e as HTMLElement).offsetParent !== null && !(e as HTMLButtonElement).disabled).slice(0, 25).map((e, i) => {
          e.setAttribute('data-a11y', String(i));
          return String(i);
        }));
      await page.focus(`#tab-${view}`);
      const reached = new Set<string>();
      for (let i = 0; i < 120 && reached.size < controls.length; i++) {
        await page.keyboard.press('Tab');
        const mark = await page.evaluate(() => document.activeElement?.getAttribute('data-a11y') ?? null);
        if (mark !== null) reached.add(mark);
      }
      assert.deepEqual([...reached].sort(), [...controls].sort(), `controls of the ${view} view not reachable by keyboard`);
    }
  });
});

describe('web view when the API server goes away', () => {
  let dataDir: string;
  let api: RunningApiServer | undefined;
  let ui: RunningUi;
  let browser: Browser;

  const startApi = (port: number) => startApiServer({ dataDir, bind: '127.0.0.1', port, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'], requestJournal: true });

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `headless Chromium is required at ${CHROMIUM}`);
    dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-ui-drop-'));
    api = await startApi(0);
    const started = api;
    ui = await startUiServer({
      api: { url: started.url, caCertPem: started.caCertPem }, port: 0, journal: started.journal,
      mintToken: (identity, ttl) => started.credentials.token(identity, ttl),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await ui?.close();
    await api?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('a banner while disconnected; the watch resumes and shows what changed meanwhile', async () => {
    const page = await browser.newPage();
    await page.goto(ui.loginLink({ username: 'kubernetes-admin', groups: ['system:masters'] }));
    await page.waitForSelector('#tabs:not([hidden])');
    // Nodes are created through the view itself (the page's session), before and after the drop.
    const viaView = (name: string) => page.evaluate(async (nodeName) => {
      const response = await fetch('/api/v1/nodes', {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-kubefacade-ui': '1' },
        body: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName } }),
      });
      return response.status;
    }, name);
    assert.equal(await viaView('before-drop'), 201);
    await page.waitForSelector('#node-table tr[data-node="before-drop"]');
    assert.equal(await page.isHidden('#banner'), true);
    const port = api!.port;
    await api!.close();
    api = undefined;
    await page.waitForSelector('#banner:not([hidden])', { timeout: 30_000 });
    assert.match(await page.textContent('#banner') ?? '', /Disconnected from the API server/);
    api = await startApi(port);
    await page.waitForSelector('#banner[hidden]', { state: 'attached', timeout: 30_000 });
    assert.equal(await viaView('after-drop'), 201);
    await page.waitForSelector('#node-table tr[data-node="after-drop"]', { timeout: 30_000 });
    assert.ok(await page.$('#node-table tr[data-node="before-drop"]'), 'what was there before is still shown');
  });
});
