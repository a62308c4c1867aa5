// The User-Agent a bundled component sends, in client-go's form `<command>/<version> (<os>/<arch>) <build>`. The API
// server names a write's field manager after the part before the first '/' when the request names none, so the
// kubelet's status writes are recorded under "kubelet" and the scheduler's under "kube-scheduler", as in a real
// cluster (client-node's own default, "node-fetch", would name them after the HTTP library).
export function componentUserAgent(command: string): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return `${command}/v0.0.0-kubefacade (${process.platform}/${arch}) kubefacade`;
}
