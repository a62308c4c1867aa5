// What well-known images look like inside: their main process (what `ps` shows as PID 1 when the pod gives no
// command), the files they ship that users look at, and the page their HTTP ports answer with. Unknown images get a
// generic profile. Deterministic: the same image always looks the same.

export interface ImageProfile {
  /** argv of the image's default ENTRYPOINT + CMD, as `ps` shows it. */
  defaultCommand: string[];
  /** Files the image ships, by absolute path. */
  files: Record<string, string>;
  /** The body an HTTP request to one of its ports gets, or undefined for the generic description. */
  httpPage?: (port: number) => { contentType: string; body: string; server: string };
}

const NGINX_WELCOME = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

const SHELL_IMAGE: ImageProfile = { defaultCommand: ['sh'], files: {} };

const PROFILES: Record<string, ImageProfile> = {
  nginx: {
    defaultCommand: ['nginx', '-g', 'daemon off;'],
    files: {
      '/usr/share/nginx/html/index.html': NGINX_WELCOME,
      '/etc/nginx/nginx.conf': 'user  nginx;\nworker_processes  auto;\n\nevents {\n    worker_connections  1024;\n}\n\nhttp {\n    include       /etc/nginx/mime.types;\n    default_type  application/octet-stream;\n    include /etc/nginx/conf.d/*.conf;\n}\n',
    },
    httpPage: () => ({ contentType: 'text/html', body: NGINX_WELCOME, server: 'nginx' }),
  },
  redis: { defaultCommand: ['redis-server', '*:6379'], files: {} },
  busybox: SHELL_IMAGE,
  alpine: { defaultCommand: ['/bin/sh'], files: { '/etc/alpine-release': '3.20.0\n' } },
  ubuntu: { defaultCommand: ['/bin/bash'], files: {} },
  debian: { defaultCommand: ['bash'], files: {} },
  httpd: {
    defaultCommand: ['httpd-foreground'],
    files: { '/usr/local/apache2/htdocs/index.html': '<html><body><h1>It works!</h1></body></html>\n' },
    httpPage: () => ({ contentType: 'text/html', body: '<html><body><h1>It works!</h1></body></html>\n', server: 'Apache/2.4' }),
  },
};

/** `docker.io/library/nginx:1.27@sha256:…` → `nginx`. */
export function imageBaseName(image: string): string {
  const withoutDigest = image.split('@', 1)[0];
  const lastSlash = withoutDigest.lastIndexOf('/');
  const name = withoutDigest.slice(lastSlash + 1);
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(0, colon);
}

export function imageProfile(image: string): ImageProfile {
  return PROFILES[imageBaseName(image)] ?? { defaultCommand: [imageBaseName(image) || 'app'], files: {} };
}
