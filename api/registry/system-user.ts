// The identity the API server uses for work it does on its own behalf (namespace cleanup,
// bootstrap objects), as kube-apiserver's loopback client uses system:apiserver.

import type { UserInfo } from '../../auth/user.ts';

export const ADMIN_SYSTEM_USER: UserInfo = { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };
