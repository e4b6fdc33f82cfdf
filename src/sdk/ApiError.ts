/** A coded error answered by the server API (docs/errors.md lists the codes). */
export class ApiError extends Error {
  /** The error code, e.g. ERR_ROOM_NOT_FOUND. */
  readonly code: string;
  /** The HTTP status of the answer. */
  readonly status: number;
  /** Extra detail some errors carry. */
  readonly data?: Record<string, unknown>;

  constructor(code: string, status: number, message: string, data?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    if (data) this.data = data;
  }
}
