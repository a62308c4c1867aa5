// The web view's flags, shared by `kubefacade server` (off by default) and `kubefacade up` (on):
// --ui, --ui-port, --ui-bind-address. Starting it needs the running API server (its address, CA,
// request journal and credential issuer for the login link).

import { type Command, InvalidArgumentError } from 'commander';
import type { RequestJournal } from './request-journal.ts';
import { startUiServer, type RunningUi } from './ui-server.ts';

export interface UiFlags {
  ui: boolean;
  uiPort: number;
  uiBindAddress: string;
}

export const DEFAULT_UI_PORT = 6480;

function parseUiBool(value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError('must be true or false');
}

function parseUiPort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return port;
}

export function addUiFlags(command: Command, enabledByDefault: boolean): Command {
  return command
    .option('--ui [enabled]', `serve the web view (default: ${enabledByDefault})`, parseUiBool, enabledByDefault)
    .option('--ui-port <port>', 'HTTP port of the web view (0: any free port)', parseUiPort, DEFAULT_UI_PORT)
    .option('--ui-bind-address <address>', 'address the web view listens on; it acts with the credentials of whoever logs in, so keep it on loopback', '127.0.0.1');
}

/** What the web view needs of the running API server. */
export interface UiTarget {
  url: string;
  caCertPem: string;
  journal?: RequestJournal;
  mintToken(identity: { username: string; groups: string[] }, ttlSeconds: number): string;
}

/** Starts the web view when --ui is on and prints its one-time admin login link. */
export async function startUiFromFlags(flags: UiFlags, apiServer: UiTarget, log: (line: string) => void = console.error): Promise<RunningUi | undefined> {
  if (!flags.ui) return undefined;
  let ui: RunningUi;
  try {
    ui = await startUiServer({
      api: { url: apiServer.url, caCertPem: apiServer.caCertPem },
      bind: flags.uiBindAddress,
      port: flags.uiPort,
      journal: apiServer.journal,
      mintToken: (identity, ttlSeconds) => apiServer.mintToken(identity, ttlSeconds),
    });
  } catch (error) {
    // The cluster itself is up: a web view that cannot listen (its port taken) is reported, not fatal.
    log(`web view not started: ${error instanceof Error ? error.message : String(error)} (--ui-port, or --ui=false)`);
    return undefined;
  }
  log(`web view: ${ui.loginLink({ username: 'kubernetes-admin', groups: ['system:masters'] })}`);
  log('  (the link logs one browser in as the admin, within 5 minutes; other users paste a token from `kubefacade token create`)');
  return ui;
}
