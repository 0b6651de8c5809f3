export { OPERATORS, TRIGGER_CODES, TRIGGER_PREFIX } from './catalog.ts';
export { createSandbox } from './server.ts';
export { SANDBOX_CREDENTIALS } from './state.ts';
export type {
  CallFilter,
  CallRecord,
  FaultRule,
  IccidFilter,
  Sandbox,
  SandboxControl,
  SandboxEndpoint,
  SandboxFlavour,
  SandboxOptions,
  SandboxOrder,
  SimStatus,
} from './types.ts';
