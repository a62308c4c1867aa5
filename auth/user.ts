// Who is calling: the result of authentication, as k8s.io/apiserver/pkg/authentication/user.Info.

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}
