// The simulated container runtime's view of images: normalised references, deterministic digests and sizes, pull
// delays, and the per-node set of images already present.
import { createHash } from 'node:crypto';

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `nginx` → `docker.io/library/nginx:latest`, `ghcr.io/a/b` → `ghcr.io/a/b:latest`, as containerd reports them. */
export function normalizeImageReference(image: string): string {
  const [withoutDigest, digest] = image.split('@', 2);
  const firstSlash = withoutDigest.indexOf('/');
  const firstPart = firstSlash === -1 ? '' : withoutDigest.slice(0, firstSlash);
  const hasRegistry = firstSlash !== -1 && (firstPart.includes('.') || firstPart.includes(':') || firstPart === 'localhost');
  let repository = withoutDigest;
  if (!hasRegistry) repository = firstSlash === -1 ? `docker.io/library/${withoutDigest}` : `docker.io/${withoutDigest}`;
  if (digest) return `${repository}@${digest}`;
  const lastSlash = repository.lastIndexOf('/');
  const hasTag = repository.slice(lastSlash + 1).includes(':');
  return hasTag ? repository : `${repository}:latest`;
}

/** Repository part of a normalised reference (without tag or digest). */
function repositoryOf(normalized: string): string {
  const at = normalized.indexOf('@');
  if (at !== -1) return normalized.slice(0, at);
  const lastSlash = normalized.lastIndexOf('/');
  const colon = normalized.indexOf(':', lastSlash + 1);
  return colon === -1 ? normalized : normalized.slice(0, colon);
}

/** `docker.io/library/nginx@sha256:<hex>`: the digest a pinned image keeps, else one derived from the reference. */
export function imageIdFor(image: string): string {
  const normalized = normalizeImageReference(image);
  const at = normalized.indexOf('@');
  if (at !== -1) return normalized;
  return `${repositoryOf(normalized)}@sha256:${sha256Hex(`kubefacade-image:${normalized}`)}`;
}

/** A plausible, stable compressed size between 2 MB and about 200 MB. */
export function imageSizeBytes(image: string): number {
  const hash = sha256Hex(`kubefacade-size:${normalizeImageReference(image)}`);
  return 2_000_000 + (parseInt(hash.slice(0, 8), 16) % 198_000_000);
}

/** Default simulated pull time: 0.5–2.5 s, the same every time for the same image. */
export function defaultImagePullDelayMs(image: string): number {
  const hash = sha256Hex(`kubefacade-pull:${normalizeImageReference(image)}`);
  return 500 + (parseInt(hash.slice(0, 8), 16) % 2000);
}

export type ImagePullDelay = number | ((image: string) => number);

export function resolvePullDelayMs(delay: ImagePullDelay | undefined, image: string): number {
  if (delay === undefined) return defaultImagePullDelayMs(image);
  return Math.max(0, typeof delay === 'number' ? delay : delay(image));
}

/** The pull policy the API server defaults when the spec leaves it out: Always for `:latest`/untagged, else IfNotPresent. */
export function effectivePullPolicy(image: string, policy: string | undefined): 'Always' | 'IfNotPresent' | 'Never' {
  if (policy === 'Always' || policy === 'IfNotPresent' || policy === 'Never') return policy;
  const normalized = normalizeImageReference(image);
  if (normalized.includes('@')) return 'IfNotPresent';
  return normalized.endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

/** `containerd://<64 hex>`, unique per pod, container and restart. */
export function containerIdFor(podUid: string, containerName: string, restartCount: number): string {
  return `containerd://${sha256Hex(`kubefacade-container:${podUid}/${containerName}/${restartCount}`)}`;
}

export interface NodeImage {
  names: string[];
  sizeBytes: number;
}

/** Images present on one simulated node, as `node.status.images` lists them. */
export class NodeImageStore {
  private readonly images = new Map<string, NodeImage>();

  has(image: string): boolean {
    return this.images.has(normalizeImageReference(image));
  }

  add(image: string): void {
    const normalized = normalizeImageReference(image);
    if (this.images.has(normalized)) return;
    this.images.set(normalized, { names: [imageIdFor(image), normalized], sizeBytes: imageSizeBytes(image) });
  }

  /** Largest first, as the kubelet sorts them (it reports at most 50). */
  list(): NodeImage[] {
    return [...this.images.values()].sort((a, b) => b.sizeBytes - a.sizeBytes).slice(0, 50);
  }
}
