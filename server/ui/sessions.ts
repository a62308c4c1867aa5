// Browser sessions of the web view. A session holds the bearer token the view acts with, server-side
// only: the browser gets an opaque, HttpOnly, SameSite=Strict cookie that dies with the browser
// session, so no credential sits in browser storage or in a URL. Login links carry a one-time code
// (never a token) that is exchanged once for a session within a few minutes.

import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface SessionIdentity {
  username: string;
  groups: string[];
}

export interface Session extends SessionIdentity {
  /** The bearer token the API server authenticates this session's requests with. */
  token: string;
  /** Epoch ms after which the session is gone (the token's own expiry or the session lifetime). */
  expiresMs: number;
}

interface LoginCode {
  session: Omit<Session, 'expiresMs'>;
  sessionTtlMs: number;
  expiresMs: number;
}

export const SESSION_COOKIE = 'kubefacade_session';
const LOGIN_CODE_TTL_MS = 5 * 60_000;
const MAX_SESSIONS = 1_000;

const opaque = (): string => randomBytes(32).toString('base64url');

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly codes = new Map<string, LoginCode>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** A one-time login code for a session acting with `token`, valid for five minutes. */
  loginCode(session: Omit<Session, 'expiresMs'>, sessionTtlMs: number): string {
    this.sweep();
    const code = opaque();
    this.codes.set(code, { session, sessionTtlMs, expiresMs: this.clock() + LOGIN_CODE_TTL_MS });
    return code;
  }

  /** Exchanges a login code for a session id; undefined when the code is unknown, used or expired. */
  redeem(code: string): { id: string; session: Session } | undefined {
    const entry = this.findCode(code);
    if (!entry) return undefined;
    this.codes.delete(entry.key);
    if (entry.value.expiresMs <= this.clock()) return undefined;
    return this.open({ ...entry.value.session, expiresMs: this.clock() + entry.value.sessionTtlMs });
  }

  open(session: Session): { id: string; session: Session } {
    this.sweep();
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    const id = opaque();
    this.sessions.set(id, session);
    return { id, session };
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresMs <= this.clock()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  close(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  /** Codes are compared in constant time: a login code is a credential for five minutes. */
  private findCode(code: string): { key: string; value: LoginCode } | undefined {
    const given = Buffer.from(code);
    for (const [key, value] of this.codes) {
      const known = Buffer.from(key);
      if (known.length === given.length && timingSafeEqual(known, given)) return { key, value };
    }
    return undefined;
  }

  private sweep(): void {
    const now = this.clock();
    for (const [code, entry] of this.codes) if (entry.expiresMs <= now) this.codes.delete(code);
    for (const [id, session] of this.sessions) if (session.expiresMs <= now) this.sessions.delete(id);
  }
}

/** The session cookie's value from a Cookie header. */
export function sessionIdFrom(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return rest.join('=');
  }
  return undefined;
}

export function sessionCookie(id: string, secure: boolean): string {
  // No Expires/Max-Age: a browser-session cookie, gone when the browser closes.
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}
