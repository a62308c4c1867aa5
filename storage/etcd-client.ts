// The gRPC connection to an etcd cluster (the `etcd3` client over every endpoint) and the retry
// policy for its calls. The client picks a random endpoint per call and skips endpoints whose
// circuit breaker is open; a call here keeps retrying with backoff for a while, because while a
// member is down or the cluster elects a new leader etcd answers "unavailable" / "leader changed"
// for a second or two, and the API server should ride that out rather than fail requests.
//
// The client's own retry is switched off so that every failed attempt is seen here: a write whose
// attempt failed may still have been applied (only its reply was lost), and the storage needs to
// know that to recognise its own write on the next attempt (see etcd.ts).

import { noop } from 'cockatiel';
import { Etcd3, isRecoverableError } from 'etcd3';

export interface EtcdConnectionOptions {
  /** Client URLs, e.g. http://127.0.0.1:2379 (https: uses TLS with the system roots). */
  endpoints: string[];
  /** How long one call keeps retrying while etcd is unreachable or has no leader (default 20 s). */
  retryTimeoutMs?: number;
}

/** One attempt of a unary call gives up after this, so a member that hangs (rather than refusing) is left for another. */
const ATTEMPT_DEADLINE_MS = 10_000;

const RETRY_FIRST_DELAY_MS = 50;
const RETRY_MAX_DELAY_MS = 1_000;

export class EtcdConnection {
  readonly client: Etcd3;
  readonly endpoints: string[];
  private readonly retryTimeoutMs: number;
  private closed = false;

  constructor(options: EtcdConnectionOptions) {
    if (options.endpoints.length === 0) throw new Error('no etcd endpoints given');
    this.endpoints = options.endpoints;
    this.retryTimeoutMs = options.retryTimeoutMs ?? 20_000;
    this.client = new Etcd3({
      hosts: options.endpoints,
      grpcOptions: {
        // A list page of large objects can exceed gRPC's 4 MiB default.
        'grpc.max_receive_message_length': -1,
        'grpc.max_send_message_length': -1,
        // Notice a member that vanished without closing the connection (etcd allows pings every 5 s).
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 10_000,
      },
      faultHandling: { global: noop },
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + ATTEMPT_DEADLINE_MS }),
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Runs `call`, retrying transient failures (unreachable member, no leader) with backoff.
   * `onRetry` hears of each failed attempt that is about to be retried.
   */
  async call<T>(call: () => Promise<T>, onRetry?: () => void): Promise<T> {
    const deadline = Date.now() + this.retryTimeoutMs;
    let delay = RETRY_FIRST_DELAY_MS;
    // The last failure that says what is wrong (an open circuit breaker only says "recently failed").
    let telling: unknown;
    for (;;) {
      if (this.closed) throw new Error('etcd connection is closed');
      try {
        return await call();
      } catch (error) {
        if (!isCircuitOpen(error)) telling = error;
        if (!isTransient(error) || Date.now() + delay > deadline || this.closed) throw describe(telling ?? error, this.endpoints);
        onRetry?.();
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, RETRY_MAX_DELAY_MS);
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }
}

/** Network-level or leaderless-cluster failures that a later attempt may not see. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // cockatiel's "circuit open" error: every endpoint failed recently; one may be back by now.
  return isRecoverableError(error) || isCircuitOpen(error);
}

function isCircuitOpen(error: unknown): boolean {
  return error instanceof Error && (error.name === 'BrokenCircuitError' || /circuit breaker is open/i.test(error.message));
}

export function isCompactedError(error: unknown): boolean {
  return error instanceof Error && error.message.includes('required revision has been compacted');
}

export function isFutureRevisionError(error: unknown): boolean {
  return error instanceof Error && error.message.includes('required revision is a future revision');
}

function describe(error: unknown, endpoints: string[]): unknown {
  if (isTransient(error) && error instanceof Error) {
    return new Error(`etcd unavailable at ${endpoints.join(',')}: ${error.message}`, { cause: error });
  }
  return error;
}

// Kept here for existing importers; the function lives apart so flag parsing does not load the gRPC client.
export { parseEtcdServers } from './etcd-servers.ts';
