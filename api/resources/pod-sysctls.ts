// validateSysctls (pkg/apis/core/validation): each name is required, a valid sysctl name (dots or
// slashes between segments, at most 253 characters) and unique within the pod.

import { duplicateField, invalidField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject } from '../object.ts';

const SYSCTL_SEGMENT = '[a-z0-9]([-_a-z0-9]*[a-z0-9])?';
const SYSCTL_PATTERN = `^(${SYSCTL_SEGMENT}[\\./])*${SYSCTL_SEGMENT}$`;
const SYSCTL_REGEXP = new RegExp(SYSCTL_PATTERN);
const SYSCTL_MAX_LENGTH = 253;

export function validateSysctls(sysctls: unknown, path: string): FieldError[] {
  if (!Array.isArray(sysctls)) return [];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  sysctls.forEach((sysctl, i) => {
    const name = isPlainObject(sysctl) && typeof sysctl.name === 'string' ? sysctl.name : '';
    const at = `${path}[${i}].name`;
    if (!name) errs.push(requiredField(at));
    else if (name.length > SYSCTL_MAX_LENGTH || !SYSCTL_REGEXP.test(name)) {
      errs.push(invalidField(at, name, `must have at most ${SYSCTL_MAX_LENGTH} characters and match regex ${SYSCTL_PATTERN}`));
    } else if (names.has(name)) errs.push(duplicateField(at, name));
    names.add(name);
  });
  return errs;
}
