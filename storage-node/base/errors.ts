// Shoal's one error type: a closed set of kinds, mapped once per protocol (NFS status, S3 XML, CLI message).

export const ERROR_KINDS = [
  'NotFound',
  'Exists',
  'NotEmpty',
  'NotDir',
  'IsDir',
  'Conflict',
  'Forbidden',
  'Unavailable',
  'Invalid',
  'NoSpace',
  'TooLarge',
  'NameTooLong',
  'ReadOnly',
  'Stale',
  'Timeout',
  'Aborted',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export const ERROR_SUBJECTS = ['volume', 'inode', 'entry', 'upload', 'block', 'handle', 'node', 'frame', 'config'] as const;
export type ErrorSubject = (typeof ERROR_SUBJECTS)[number];

export interface ShoalErrorOptions {
  subject?: ErrorSubject;
  detail?: Record<string, unknown>;
  cause?: unknown;
}

export class ShoalError extends Error {
  override readonly name = 'ShoalError';
  readonly kind: ErrorKind;
  readonly subject: ErrorSubject | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(kind: ErrorKind, message: string, options: ShoalErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.subject = options.subject;
    this.detail = options.detail;
  }
}

/** Checks the kind rather than `instanceof`, so errors rebuilt from the wire or from another copy of the module match. */
export function isShoalError(err: unknown, kind?: ErrorKind): err is ShoalError {
  if (typeof err !== 'object' || err === null) return false;
  const candidate = err as { name?: unknown; kind?: unknown };
  if (candidate.name !== 'ShoalError' || typeof candidate.kind !== 'string') return false;
  return kind === undefined || candidate.kind === kind;
}

export function isErrorKind(value: unknown): value is ErrorKind {
  return typeof value === 'string' && (ERROR_KINDS as readonly string[]).includes(value);
}

export function isErrorSubject(value: unknown): value is ErrorSubject {
  return typeof value === 'string' && (ERROR_SUBJECTS as readonly string[]).includes(value);
}
