// Port forwarding over WebSocket as the kubelet serves it (pkg/kubelet/cri/streaming/portforward/websocket.go):
// subprotocol v4.channel.k8s.io; for the i-th requested port, channel 2i carries data and 2i+1 errors; the first
// message the server sends on each channel is the port number (2 bytes, little endian). Each WebSocket is one TCP
// connection per port. Data goes to a simulated connection on a declared containerPort; an undeclared port fails as
// the runtime fails to dial it, with the message written on the port's error channel.
import type { WebSocket } from 'ws';
import { SimulatedConnection, type PortOwner } from './simulated-port.ts';

export const PORT_FORWARD_PROTOCOLS = ['v4.channel.k8s.io'] as const;

export interface PortForwardTarget {
  /** The sandbox ID the runtime names in its errors. */
  sandboxId: string;
  /** Declared ports of running containers. */
  ports: Map<number, PortOwner>;
}

/** The runtime's error when nothing listens on the port inside the pod's network namespace (containerd's wording). */
export function connectionRefused(target: PortForwardTarget, port: number): string {
  return `error forwarding port ${port} to pod ${target.sandboxId}, uid : failed to execute portforward in network namespace "/var/run/netns/cni-${target.sandboxId.slice(0, 8)}": failed to connect to localhost:${port} inside namespace "${target.sandboxId}", IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: connection refused `;
}

export function servePortForward(ws: WebSocket, ports: number[], target: PortForwardTarget): void {
  const send = (channel: number, data: Buffer): void => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.of(channel), data]));
  };
  const connections: (SimulatedConnection | undefined)[] = [];
  let live = 0;
  ports.forEach((port, index) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(index * 2, portBytes);
    send(index * 2 + 1, portBytes);
    const owner = target.ports.get(port);
    if (!owner) {
      send(index * 2 + 1, Buffer.from(connectionRefused(target, port)));
      return;
    }
    live++;
    connections[index] = new SimulatedConnection(owner, (data) => send(index * 2, data), () => {
      connections[index] = undefined;
      if (connections.every((c) => c === undefined)) ws.close(1000);
    });
  });
  // Every port refused: nothing will ever flow, so the session ends (the client closes its local connection).
  if (live === 0) ws.close(1000);
  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    if (!isBinary || raw.length === 0) return;
    const channel = raw[0];
    if (channel % 2 !== 0) return;
    connections[channel / 2]?.receive(Buffer.from(raw.subarray(1)));
  });
  ws.on('close', () => {
    for (const connection of connections) connection?.finish();
  });
  ws.on('error', () => ws.terminate());
}
