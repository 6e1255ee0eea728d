/**
 * One error base for the whole project, after viem's `BaseError`: a stable `code` that callers and
 * tests compare, a `shortMessage` that says what went wrong and what to do next, optional `details`
 * and `metaMessages`, and the `cause` chain.
 *
 * @example
 * throw new DepinError('STAKE_TOO_LOW', 'Stake 10 DPN more before registering a storage node.', {
 *   details: { required: '100', staked: '90' },
 * });
 */
export class DepinError<C extends string = string> extends Error {
  override readonly name: string = 'DepinError';
  readonly code: C;
  readonly shortMessage: string;
  readonly details: Record<string, unknown> | undefined;
  readonly metaMessages: string[] | undefined;
  /** HTTP status a daemon answers with when this error crosses its boundary. */
  readonly status: number;

  constructor(
    code: C,
    shortMessage: string,
    options: {
      cause?: unknown;
      details?: Record<string, unknown>;
      metaMessages?: string[];
      status?: number;
    } = {},
  ) {
    const lines = [shortMessage];
    if (options.metaMessages) lines.push('', ...options.metaMessages);
    if (options.details) lines.push('', `Details: ${safeJson(options.details)}`);
    super(lines.join('\n'), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.metaMessages = options.metaMessages;
    this.status = options.status ?? 400;
  }

  /** The JSON body a daemon returns for this error. */
  toJSON(): { error: { code: C; message: string; details?: Record<string, unknown> } } {
    return {
      error: {
        code: this.code,
        message: this.shortMessage,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/** True when `error` is a {@link DepinError}, optionally with the given code. */
export function isDepinError<C extends string>(error: unknown, code?: C): error is DepinError<C> {
  return error instanceof DepinError && (code === undefined || error.code === code);
}

function safeJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}
