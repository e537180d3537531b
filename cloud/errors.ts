/**
 * Errors the service returns to its callers, as typed objects. Every one
 * carries a stable machine-readable code and an HTTP status; the API
 * renders it as `{"error": {"code", "message"}}`, plus `field` when the
 * error is about one input field.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** the input field the error is about (e.g. "name", "tariff.bands[1].from"), for a form to show it there */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (code: string, message: string, field?: string) => new ApiError(400, code, message, field);
export const unauthorized = (message = 'a valid bearer token or API key is required') =>
  new ApiError(401, 'UNAUTHORIZED', message);
export const forbidden = (message: string) => new ApiError(403, 'FORBIDDEN', message);
export const notFound = (what: string, id: string) =>
  new ApiError(404, 'NOT_FOUND', `${what} ${JSON.stringify(id)} does not exist`);
export const conflict = (code: string, message: string) => new ApiError(409, code, message);
export const unprocessable = (code: string, message: string) => new ApiError(422, code, message);
