/**
 * Portcullis policy engine: pure functions, no I/O. Imports nothing from db/, next/,
 * node: or any package, so it runs in middleware, pages and tests alike.
 */
export type * from './types';
export { anyContains, cidrContains, isValidCidr, parseCidr, parseIp } from './cidr';
export { aalOf, secondFactorAtOf, secondFactorMethods, withMethod } from './assurance';
export { compilePolicies, compilePolicy } from './compile';
export { decide } from './decide';
export { authStrengths, maxReverifyMinutes, minReverifyMinutes, phishingResistantMethods } from './strength';
export { maxGraceDays, minGraceDays, statusWithGrace } from './grace';
export { explainPolicies, type Explanation, type PolicyExplanation } from './explain';
export type { CriteriaRecord, CriterionOutcome } from './criteria';
export {
  isEnrolled,
  noMethodError,
  setupMethods,
  validateSettings,
  webauthnOnlyError,
  type SetupMethods,
} from './methods';
export {
  defaultEnrollmentDays,
  enrollmentPeriod,
  isValidEnrollmentDays,
  maxEnrollmentDays,
  mfaStatus,
  minEnrollmentDays,
  oneDayMs,
  periodRunning,
} from './status';
export { parseUserAgent } from './user-agent';
export { deviceCounts, maxRememberDays, minRememberDays } from './remember';
