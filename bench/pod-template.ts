// The pod every scenario creates: a realistic ~2 KB two-container pod (labels, annotations,
// requests and limits, env, ports, a shared volume), the shape of a typical Deployment's pod
// rather than a minimal one, so parsing, validation, defaulting and storage pay realistic sizes.

export const BENCH_NAMESPACE = 'bench';

export interface PodTemplateOptions {
  /** Name prefix; the pod is `<prefix>__I__` in the template (the load generator fills the index). */
  namePrefix: string;
  /** Pin to a node (skips the scheduler), as the watch scenario does. */
  nodeName?: string;
  /** Extra annotation carrying the send time (`__T__`) for delivery-latency probes. */
  sentAtAnnotation?: boolean;
}

export function podTemplate(options: PodTemplateOptions): string {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${options.namePrefix}__I__`,
      namespace: BENCH_NAMESPACE,
      labels: {
        app: 'bench-web', tier: 'frontend', 'app.kubernetes.io/name': 'bench-web',
        'app.kubernetes.io/instance': 'bench-web-__I__', 'app.kubernetes.io/version': '1.27.0',
        'app.kubernetes.io/component': 'web', 'app.kubernetes.io/part-of': 'bench-shop', 'pod-template-hash': '5d8f7c9b6d',
      },
      annotations: {
        'kubernetes.io/description': 'kubefacade benchmark pod: a web server with a log-shipping sidecar',
        'prometheus.io/scrape': 'true', 'prometheus.io/port': '9102',
        ...(options.sentAtAnnotation ? { 'bench.kubefacade.io/sent-at': '__T__' } : {}),
      },
    },
    spec: {
      ...(options.nodeName ? { nodeName: options.nodeName } : {}),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: 'web',
          image: 'registry.k8s.io/nginx-slim:0.27',
          imagePullPolicy: 'IfNotPresent',
          args: ['--port=8080', '--metrics-port=9102', '--log-format=json'],
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'metrics', containerPort: 9102, protocol: 'TCP' }],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'LOG_LEVEL', value: 'info' },
            { name: 'CACHE_DIR', value: '/var/cache/web' },
            { name: 'REQUEST_TIMEOUT_SECONDS', value: '30' },
            { name: 'UPSTREAM_URL', value: 'http://bench-backend.bench.svc.cluster.local:8080/api/v1' },
          ],
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
          volumeMounts: [{ name: 'logs', mountPath: '/var/log/web' }],
        },
        {
          name: 'log-shipper',
          image: 'registry.k8s.io/fluent-bit:2.2.0',
          imagePullPolicy: 'IfNotPresent',
          args: ['--input=tail', '--path=/var/log/web/*.log', '--output=stdout'],
          env: [{ name: 'SHIPPER_BUFFER', value: '5MB' }, { name: 'SHIPPER_FLUSH_SECONDS', value: '5' }],
          resources: { requests: { cpu: '5m', memory: '8Mi' }, limits: { cpu: '50m', memory: '32Mi' } },
          volumeMounts: [{ name: 'logs', mountPath: '/var/log/web', readOnly: true }],
        },
      ],
      volumes: [{ name: 'logs', emptyDir: {} }],
    },
  };
  return JSON.stringify(pod);
}

/** The template with a concrete index, for callers that send one pod themselves. */
export function podBody(options: PodTemplateOptions, index: number, sentAtMs = Date.now()): string {
  return podTemplate(options).replaceAll('__I__', String(index)).replaceAll('__T__', String(Math.round(sentAtMs)));
}
