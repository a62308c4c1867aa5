// The core/v1 options of pod subresources, decoded from the query string as the generated
// url.Values → v1 conversions do (PodLogOptions for pods/log and the kubelet's containerLogs,
// PodExecOptions, PodAttachOptions, PodPortForwardOptions for the streaming subresources), with
// the validation kube-apiserver runs on them.

import { badRequest, forbiddenField, invalid, invalidField, type FieldError } from '../errors.ts';
import {
  boolParam, int64Param, portsParam, stringParam, stringsParam, timeParam, type RawQuery,
} from './query-values.ts';

export interface PodLogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
  sinceSeconds?: number;
  sinceTime?: Date;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  insecureSkipTLSVerifyBackend: boolean;
}

export interface PodExecOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  container?: string;
  command: string[];
}

export interface PodAttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  container?: string;
}

export interface PodPortForwardOptions {
  ports: number[];
}

export function decodePodLogOptions(query: RawQuery): PodLogOptions {
  return {
    container: stringParam(query, 'container'),
    follow: boolParam(query, 'follow'),
    previous: boolParam(query, 'previous'),
    sinceSeconds: int64Param(query, 'sinceSeconds'),
    sinceTime: timeParam(query, 'sinceTime'),
    timestamps: boolParam(query, 'timestamps'),
    tailLines: int64Param(query, 'tailLines'),
    limitBytes: int64Param(query, 'limitBytes'),
    insecureSkipTLSVerifyBackend: boolParam(query, 'insecureSkipTLSVerifyBackend'),
  };
}

/** validation.ValidatePodLogOptions. */
export function podLogOptionsErrors(options: PodLogOptions): FieldError[] {
  const errs: FieldError[] = [];
  if (options.tailLines !== undefined && options.tailLines < 0) {
    errs.push(invalidField('tailLines', options.tailLines, 'must be greater than or equal to 0'));
  }
  if (options.limitBytes !== undefined && options.limitBytes < 1) {
    errs.push(invalidField('limitBytes', options.limitBytes, 'must be greater than 0'));
  }
  if (options.sinceSeconds !== undefined && options.sinceTime !== undefined) {
    errs.push(forbiddenField('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  } else if (options.sinceSeconds !== undefined && options.sinceSeconds < 1) {
    errs.push(invalidField('sinceSeconds', options.sinceSeconds, 'must be greater than 0'));
  }
  return errs;
}

/** LogREST.Get's check: 422 `PodLogOptions "<pod>" is invalid: ...`. */
export function validatePodLogOptions(options: PodLogOptions, podName: string): void {
  const errs = podLogOptionsErrors(options);
  if (errs.length > 0) throw invalid('PodLogOptions', '', podName, errs);
}

/** The parameters of the upstream query string for these options (what the API server forwards to the kubelet). */
export function encodePodLogOptions(options: PodLogOptions): URLSearchParams {
  const out = new URLSearchParams();
  if (options.container) out.set('container', options.container);
  if (options.follow) out.set('follow', 'true');
  if (options.previous) out.set('previous', 'true');
  if (options.sinceSeconds !== undefined) out.set('sinceSeconds', String(options.sinceSeconds));
  if (options.sinceTime !== undefined) out.set('sinceTime', options.sinceTime.toISOString().replace(/\.000Z$/, 'Z'));
  if (options.timestamps) out.set('timestamps', 'true');
  if (options.tailLines !== undefined) out.set('tailLines', String(options.tailLines));
  if (options.limitBytes !== undefined) out.set('limitBytes', String(options.limitBytes));
  return out;
}

export function decodePodExecOptions(query: RawQuery): PodExecOptions {
  return {
    stdin: boolParam(query, 'stdin'),
    stdout: boolParam(query, 'stdout'),
    stderr: boolParam(query, 'stderr'),
    tty: boolParam(query, 'tty'),
    container: stringParam(query, 'container'),
    command: stringsParam(query, 'command'),
  };
}

export function decodePodAttachOptions(query: RawQuery): PodAttachOptions {
  return {
    stdin: boolParam(query, 'stdin'),
    stdout: boolParam(query, 'stdout'),
    stderr: boolParam(query, 'stderr'),
    tty: boolParam(query, 'tty'),
    container: stringParam(query, 'container'),
  };
}

/** The kubelet's check before it upgrades an exec or attach connection (remotecommand.NewOptions). */
export function validateStreamOptions(options: PodExecOptions | PodAttachOptions): void {
  if (!options.stdin && !options.stdout && !options.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
}

export function decodePodPortForwardOptions(query: RawQuery): PodPortForwardOptions {
  return { ports: portsParam(query, 'ports') };
}
