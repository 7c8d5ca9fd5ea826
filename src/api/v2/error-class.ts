import { StringEnum } from '../schema-kit.js';

/** Error classes an agent reports in its termination message; they drive retries and workflows. */
export const ERROR_CLASSES = [
  'TIMEOUT',
  'RATE_LIMIT',
  'API_ERROR',
  'QUOTA_EXCEEDED',
  'VALIDATION_ERROR',
  'CRITICAL_ERROR',
  'SECURITY_INCIDENT',
  'UNKNOWN',
] as const;

export const ErrorClass = StringEnum('An error class.', ERROR_CLASSES);
