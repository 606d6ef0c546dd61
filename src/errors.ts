// Errors with stable codes (after fastify lib/errors.js): callers compare codes, never messages.
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 500,
  ) {
    super(message);
    this.name = 'AppError';
  }
}
