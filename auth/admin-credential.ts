// The bootstrap admin credential: one random bearer token, created on first start and kept in the
// data directory so kubeconfigs written earlier keep working after a restart.

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { UserInfo } from './user.ts';

/** The identity the admin token authenticates as (kubeadm's admin.conf user). */
export const ADMIN_USER: UserInfo = Object.freeze({
  username: 'kubernetes-admin',
  groups: Object.freeze(['system:masters', 'system:authenticated']) as string[],
});

export function adminTokenPath(dataDir: string): string {
  return path.join(dataDir, 'pki', 'admin.token');
}

/** Returns the admin bearer token (256 random bits, base64url), creating `<dataDir>/pki/admin.token` if needed. */
export async function ensureAdminToken(dataDir: string): Promise<string> {
  const file = adminTokenPath(dataDir);
  try {
    const existing = (await fs.readFile(file, 'utf8')).trim();
    if (existing) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('base64url');
  await fs.writeFile(file, `${token}\n`, { mode: 0o600 });
  await fs.chmod(file, 0o600);
  return token;
}
