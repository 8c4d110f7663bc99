/**
 * The catalogue of LeadSquared exception types. Domain code throws `MxError`s; the HTTP edge turns
 * them into `{"Status":"Error","ExceptionType":…,"ExceptionMessage":…}` with `status`, and the async
 * worker treats them as final (application errors are never retried). Anything that is not an
 * `MxError` is a system error: a generic 500 on the sync API and a retry on the async API.
 */

export type MxType =
  | 'MXInvalidInputException'
  | 'MXInvalidJsonException'
  | 'MXMandatoryAttributeMissingException'
  | 'MXInvalidEntityException'
  | 'MXInvalidActivityException'
  | 'MXUnknownProspectActivityException'
  | 'MXUnknownAttributeException'
  | 'MXDuplicateEntryException'
  | 'MXDuplicateEntityNameException'
  | 'MXAPIRateLimitExceededException'
  | 'MXUnAuthorizedAccessException'
  | 'MXAPINotFoundException'
  | 'MXMethodNotAllowedException'
  | 'MXRequestTooLargeException'
  | 'MXUnsupportedMediaTypeException'
  | 'MXServiceUnavailableException';

const MAX_MESSAGE = 1_000;

export class MxError extends Error {
  constructor(
    readonly type: MxType,
    message: string,
    /** HTTP status on the sync API. Application errors are 500, as LeadSquared answers them. */
    readonly status = 500,
    /** Extra response headers (Retry-After on 429). */
    readonly headers: Record<string, string> = {},
  ) {
    // Messages quote client values; one of 100 KB must not be echoed back whole.
    super(message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 200)} … ${message.slice(-200)}` : message);
    this.name = type;
  }

  /**
   * Set when the error may come from losing a race to a concurrent writer (a unique key taken
   * between our read and our insert): running the operation again then finds the winner's row and
   * answers differently. See domain/run.ts.
   */
  lostRace = false;

  /** This error, marked as a possible lost race. */
  raced(): this {
    this.lostRace = true;
    return this;
  }
}

export const isMxError = (e: unknown): e is MxError => e instanceof MxError;

/** Constructors for every error leadtrail raises, so that each message is written once. */
export const mx = {
  /** `message`: the whole text, as wire/json-body.ts words it for a body that is not JSON. */
  badJson: (message: string) => new MxError('MXInvalidJsonException', message, 400),
  badStructure: (detail: string) => new MxError('MXInvalidInputException', `Invalid request body: ${detail}`, 400),
  unauthorized: () =>
    new MxError('MXUnAuthorizedAccessException', 'Invalid User Details: invalid accessKey or secretKey.', 401),
  /** Async API: valid keys, but of another account than the x-api-key's (docs/compatibility.md, Authentication). */
  keysOfAnotherAccount: () =>
    new MxError('MXUnAuthorizedAccessException', 'Invalid User Details: the accessKey and secretKey belong to another account than the x-api-key.', 401),
  notFound: (path: string) =>
    new MxError('MXAPINotFoundException', `The API could not be found. Please check the API signature: ${path}`, 404),
  /** A route of leadtrail's own that exists only with `setting` on (LEADTRAIL_FAULTS, LEADTRAIL_SANDBOX). */
  switchedOff: (path: string, setting: string) =>
    new MxError('MXAPINotFoundException', `The API could not be found: ${path} is off on this server; start it with ${setting}=true.`, 404),
  methodNotAllowed: (method: string, path: string, allowed: string[]) =>
    new MxError('MXMethodNotAllowedException', `Method ${method} is not allowed on ${path}; use ${allowed.join(', ')}.`, 405, {
      allow: allowed.join(', '),
    }),
  /** 415: a body leadtrail cannot read as text (its media type, charset or content coding). */
  unsupportedMedia: (message: string) => new MxError('MXUnsupportedMediaTypeException', message, 415),
  badUrl: () => new MxError('MXInvalidInputException', 'The request URL is not valid: check its percent-encoding.', 400),
  badQuery: (name: string) => new MxError('MXInvalidInputException', `Query parameter '${name}' must not contain the NUL character (%00).`, 400),
  badHttp: () => new MxError('MXInvalidInputException', 'The request is not valid HTTP.', 400),
  headersTooLarge: () =>
    new MxError('MXRequestTooLargeException', 'The request headers (with the URL and its query string) are larger than the server accepts.', 431),
  tooLarge: (limit: number) =>
    new MxError('MXRequestTooLargeException', `Request body is larger than the limit of ${limit} bytes.`, 413),
  rateLimited: (points: number, seconds: number, retryAfter: number) =>
    new MxError('MXAPIRateLimitExceededException', `API calls exceeded the limit of ${points} in ${seconds} second(s)`, 429, {
      'retry-after': String(retryAfter),
    }),

  invalidInput: (message: string) => new MxError('MXInvalidInputException', message),
  mandatoryMissing: (message: string) => new MxError('MXMandatoryAttributeMissingException', message),
  unknownLead: (id: string) => new MxError('MXInvalidEntityException', `Lead does not exist in the system: ${id}`),
  invalidEvent: (code?: unknown) =>
    new MxError(
      'MXInvalidActivityException',
      code === undefined || code === null || code === '' ? 'Event Code is invalid or empty' : `Event Code is invalid or empty: ${String(code)}`,
    ),
  wrongActivityType: (id: string, given: number, actual: number) =>
    new MxError('MXInvalidActivityException', `Event Code ${given} is not the type of activity ${id.slice(0, 64)} (its Event Code is ${actual}).`),
  unknownActivity: (id: string) =>
    new MxError('MXUnknownProspectActivityException', `Activity does not exist in the system: ${id}`),
  /** `why`, when given, follows the name: what the caller can do instead (leads.ts: the names a new lead field may have). */
  unknownAttribute: (name: string, where: string, why?: string) =>
    new MxError('MXUnknownAttributeException', `Unknown attribute '${name}' for ${where}${why ? `: ${why}` : ''}`),
  duplicate: (what: string) => new MxError('MXDuplicateEntryException', `A Lead with same ${what} already exists.`),
  requestNotFound: (id: string) => new MxError('MXInvalidEntityException', `Request '${id.slice(0, 64)}' was not found.`, 404),
  /** An async request asked for at a status path that does not answer for its kind: where its status is read (`what`: "Lead Capture request (/lead/capture)"). */
  requestOfOtherKind: (id: string, what: string, paths: readonly string[]) =>
    new MxError('MXInvalidEntityException', `Request '${id.slice(0, 64)}' is ${/^[AEIOU]/i.test(what) ? 'an' : 'a'} ${what}: read its status at ${paths.join(' or ')}.`, 404),
  /** A lead found by a lookup value changed that value while the call waited for its turn (leads.ts, lockFoundLead), again at every rerun. */
  leadChanged: (id: string) =>
    new MxError('MXServiceUnavailableException', `Lead ${id.slice(0, 64)} changed the values it was found by while this call was writing it, at every try. Retry shortly.`, 503, { 'retry-after': '1' }),
  duplicateName: (message: string) => new MxError('MXDuplicateEntityNameException', message),
  starting: () =>
    new MxError('MXServiceUnavailableException', 'The server is starting and cannot serve requests yet. Retry shortly.', 503, { 'retry-after': '1' }),
  /** The server has begun to shut down: the connection closes after this answer, so a retry reaches another instance (or this one restarted). */
  /** Another process holds the database's write lock (a `leadtrail seed` on the same SQLite file) for longer than a write waits. */
  storeBusy: () =>
    new MxError(
      'MXServiceUnavailableException',
      'The database is held by another process (a leadtrail seed, reset, migrate or lead-fields change?) and this write could not wait longer. Retry shortly.',
      503,
      { 'retry-after': '5' },
    ),
  stopping: () =>
    new MxError('MXServiceUnavailableException', 'The server is shutting down and cannot serve new requests. Retry shortly.', 503, { 'retry-after': '1', connection: 'close' }),
};
