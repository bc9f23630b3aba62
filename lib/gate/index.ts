export { createMfaGate, type MfaGateOptions } from './create-mfa-gate';
export type { ResourceRoute } from './paths';
