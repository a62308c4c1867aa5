// ControllerExpectations and UIDTrackingControllerExpectations (pkg/controller/controller_utils.go):
// after a controller asks for N pod creations or for the deletion of given pods it waits until its
// informer has seen them before syncing that owner again, so a stale cache never makes it create
// (or delete) the same pods twice. Deletions are tracked by pod key, so a pod seen terminating and
// then gone counts once. Expectations expire after five minutes, in case an observation was missed.

const EXPECTATIONS_TIMEOUT_MS = 5 * 60 * 1000;

interface Expectation {
  add: number;
  deleting: Set<string>;
  setAt: number;
}

export class ControllerExpectations {
  private readonly store = new Map<string, Expectation>();

  /** Whether the owner may sync: no expectations, all fulfilled, or expired. */
  satisfied(key: string): boolean {
    const exp = this.store.get(key);
    if (!exp) return true;
    if (exp.add <= 0 && exp.deleting.size === 0) return true;
    return performance.now() - exp.setAt > EXPECTATIONS_TIMEOUT_MS;
  }

  expectCreations(key: string, adds: number): void {
    this.store.set(key, { add: adds, deleting: new Set(), setAt: performance.now() });
  }

  expectDeletions(key: string, podKeys: string[]): void {
    this.store.set(key, { add: 0, deleting: new Set(podKeys), setAt: performance.now() });
  }

  /** Creations and deletions asked for in one sync (the DaemonSet controller's SetExpectations). */
  expect(key: string, adds: number, podKeys: string[]): void {
    this.store.set(key, { add: adds, deleting: new Set(podKeys), setAt: performance.now() });
  }

  creationObserved(key: string): void {
    const exp = this.store.get(key);
    if (exp) exp.add -= 1;
  }

  deletionObserved(key: string, podKey: string): void {
    this.store.get(key)?.deleting.delete(podKey);
  }

  /** A creation that failed will never be observed: lower the expectation (LowerExpectations). */
  lowerCreations(key: string, by = 1): void {
    const exp = this.store.get(key);
    if (exp) exp.add -= by;
  }

  delete(key: string): void {
    this.store.delete(key);
  }
}
