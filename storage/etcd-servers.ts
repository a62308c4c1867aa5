// `--etcd-servers` parsing, apart from the etcd client so the CLI and the library check the flag
// without loading gRPC (most starts use LevelDB or memory).

/** `--etcd-servers` as kube-apiserver takes it: comma-separated URLs. */
export function parseEtcdServers(value: string | string[]): string[] {
  const items = (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')).map((item) => item.trim()).filter(Boolean);
  for (const item of items) {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new Error(`invalid etcd server URL: ${item}`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.port) {
      throw new Error(`etcd server URL must be http(s)://host:port: ${item}`);
    }
  }
  if (items.length === 0) throw new Error('no etcd servers given');
  return items;
}
