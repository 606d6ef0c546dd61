// multipart/form-data (RFC 7578) split from the body's own bytes: a camera's HTTP push ("HTTP listening",
// Hikvision ISAPI) sends its event as one part and its pictures as others. The decoder sees only the body (the
// inbox keeps bytes, not headers), so the boundary is read from the body's first line — a multipart body starts
// with `--<boundary>` (RFC 2046 §5.1.1). Parts are cut at the delimiter; a part's own Content-Length, which
// Hikvision also sends, is not needed.
export interface Part {
  headers: Record<string, string>;
  /** `name` of its Content-Disposition. */
  name?: string;
  filename?: string;
  contentType?: string;
  body: Buffer;
}

const CRLF = Buffer.from('\r\n');
export const MULTIPART_MAX_PARTS = 16;

/** Whether the body looks like multipart: its first bytes are `--` and a boundary on a line of its own. */
export function isMultipart(body: Buffer): boolean {
  return body.length > 4 && body[0] === 0x2d && body[1] === 0x2d && body.indexOf(CRLF) > 2 && body.indexOf(CRLF) <= 72;
}

/** The parts of a multipart body; throws when it is not one (no closing delimiter, too many parts, a part without headers). */
export function splitMultipart(body: Buffer): Part[] {
  const eol = body.indexOf(CRLF);
  if (!isMultipart(body)) throw new Error('not a multipart body (no --boundary line first)');
  const boundary = body.subarray(2, eol).toString('latin1').trim();
  if (!/^[\x21-\x7e]{1,70}$/.test(boundary)) throw new Error('multipart boundary is not 1–70 printable characters');
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const parts: Part[] = [];
  let at = eol + 2;
  for (;;) {
    const next = body.indexOf(delimiter, at);
    if (next < 0) throw new Error(`multipart body has no closing --${boundary}--`);
    parts.push(part(body.subarray(at, next)));
    if (parts.length > MULTIPART_MAX_PARTS) throw new Error(`more than ${MULTIPART_MAX_PARTS} multipart parts`);
    const after = next + delimiter.length;
    if (body[after] === 0x2d && body[after + 1] === 0x2d) return parts;
    const lineEnd = body.indexOf(CRLF, after);
    if (lineEnd < 0) throw new Error('multipart delimiter line never ends');
    at = lineEnd + 2;
  }
}

function part(raw: Buffer): Part {
  // Some cameras write an empty line after the delimiter before the headers (seen in field captures): skip it.
  let start = 0;
  while (raw.subarray(start, start + 2).equals(CRLF)) start += 2;
  const sep = raw.indexOf('\r\n\r\n', start);
  if (sep < 0) throw new Error('a multipart part has no header block');
  const headers: Record<string, string> = {};
  for (const line of raw.subarray(start, sep).toString('utf8').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const cd = headers['content-disposition'] ?? '';
  const name = /\bname="([^"]*)"/i.exec(cd)?.[1];
  const filename = /\bfilename="([^"]*)"/i.exec(cd)?.[1];
  const contentType = headers['content-type']?.split(';')[0].trim().toLowerCase();
  let body = raw.subarray(sep + 4);
  // The part's own length, when given and shorter, ends it (cameras pad a part with blank lines before the next delimiter).
  const length = Number(headers['content-length']);
  if (Number.isInteger(length) && length >= 0 && length < body.length) body = body.subarray(0, length);
  return { headers, name, filename, contentType, body };
}
