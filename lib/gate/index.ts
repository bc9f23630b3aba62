export { createMfaGate, type MfaGateOptions } from './create-mfa-gate';
export type { ResourceRoute } from './paths';
export {
  accessContextFor,
  getAccessContext,
  isAccessUnavailable,
  AccessUnavailable,
  type AccessContext,
  type Assurance,
} from './context';
export type { RequestFacts } from './decision-input';
export { requirePageAccess, type PageAccess } from './require-page-access';
export { routeAccess, type RouteAccess } from './route-access';
export { actionAccess, followRefusal, type ActionAccess, type ActionRefusal } from './action-access';
export { mfaAccess, mfaPageAccess, type MfaPageAccess } from './mfa-page-access';
export { resourceOfPath } from './resources';
export { destinationFor, evaluateAccess, type AccessDb, type AccessResult } from './access';
