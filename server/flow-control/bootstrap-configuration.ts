// API Priority and Fairness' bootstrap configuration: kube-apiserver's mandatory and suggested
// FlowSchemas and PriorityLevelConfigurations (api/resources/flowcontrol-bootstrap.ts), compiled
// as the stored objects are. The filter classifies with it until the stored objects are read
// (and a filter without them, in unit tests, always does).

import type { UserInfo } from '../../auth/user.ts';
import {
  MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS, SUGGESTED_FLOW_SCHEMAS, SUGGESTED_PRIORITY_LEVELS,
} from '../../api/resources/flowcontrol-bootstrap.ts';
import type { RequestInfo } from '../request-info.ts';
import { classifyRequest, compileConfiguration, type Classification, type FlowControlObjects } from './configuration.ts';

export const BOOTSTRAP_OBJECTS: FlowControlObjects = {
  flowSchemas: [...MANDATORY_FLOW_SCHEMAS, ...SUGGESTED_FLOW_SCHEMAS],
  priorityLevels: [...MANDATORY_PRIORITY_LEVELS, ...SUGGESTED_PRIORITY_LEVELS],
};

const BOOTSTRAP = compileConfiguration(BOOTSTRAP_OBJECTS, 600);

/** How the bootstrap configuration classifies a request. */
export function classify(user: UserInfo, info: RequestInfo): Classification {
  return classifyRequest(BOOTSTRAP, user, info);
}
