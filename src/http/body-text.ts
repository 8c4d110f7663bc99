/**
 * The text of a LeadSquared request body, from its bytes and headers (leadtrail's choice: LeadSquared
 * documents neither charsets nor compressed bodies).
 *
 * - No `charset` parameter on the Content-Type, or a UTF-8 one: read as UTF-8, as always, with
 *   invalid bytes turned into U+FFFD and a leading byte-order mark skipped (.NET writers add one).
 * - Another charset (`iso-8859-1`, `windows-1252`, `utf-16le`, `shift_jis`, …): decoded from it by
 *   iconv-lite, byte-order mark skipped; bytes not valid in it become U+FFFD, as with UTF-8.
 * - A charset iconv-lite does not know: 415 MXUnsupportedMediaTypeException.
 * - A `Content-Encoding` other than `identity` (gzip, deflate, br): 415, before anything is decoded.
 */
import type { IncomingHttpHeaders } from 'node:http';
import contentType from 'content-type';
import iconv from 'iconv-lite';
import { mx, type MxError } from '../domain/errors.js';

const UTF8 = new Set(['utf-8', 'utf8']);

/** The body's text, or the MxError that refuses it. `bytes` is not empty. */
export function bodyText(bytes: Buffer, headers: IncomingHttpHeaders): string | MxError {
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.split(',').some((c) => !['', 'identity'].includes(c.trim().toLowerCase()))) {
    return mx.unsupportedMedia(`Content-Encoding '${encoding.slice(0, 60)}' is not supported: request bodies must be sent uncompressed.`);
  }
  const charset = charsetOf(headers['content-type']);
  if (charset === null || UTF8.has(charset)) {
    const text = bytes.toString('utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
  const label: string = charset;
  if (!iconv.encodingExists(charset)) {
    return mx.unsupportedMedia(
      `The charset '${label.slice(0, 60)}' declared in the Content-Type header is not supported: send the body in UTF-8, or in a charset such as ISO-8859-1, windows-1252 or UTF-16LE.`,
    );
  }
  return iconv.decode(bytes, charset);
}

/** The Content-Type's charset, lower-cased; null without one (or without a parseable header: Fastify refuses a malformed one first). */
function charsetOf(header: string | undefined): string | null {
  // The common case, no charset at all, costs one search of the header.
  if (header === undefined || !/charset/i.test(header)) return null;
  try {
    return contentType.parse(header).parameters.charset?.trim().toLowerCase() ?? null;
  } catch {
    return null;
  }
}
