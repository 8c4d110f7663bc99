/**
 * The bench's yardstick: a bare `node:http` server that does the least any JSON API must do. It
 * reads the body, parses it as JSON, and answers JSON. No framework, no storage, no logging: the
 * ratio leadtrail / baseline, measured in the same round on the same machine, is what the bench
 * reports.
 *
 * What it answers is set by the bench before each scenario (issue 11: "parse the same JSON body,
 * answer the same JSON"): `POST /_baseline/answer` with `{ "contentType": "...", "body": "..." }`,
 * the answer leadtrail gave to one call of that scenario. A JSON answer is parsed once and
 * serialised afresh for every call, as a server serialises what it answers; any other content type
 * is sent as the text it was. `POST /_baseline/answer` with `{}` goes back to the default, the answer
 * to a `Create` with a fresh id per call (the round's own baseline, the only one before 2 Dec 2026).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';

/** null: the default `Create`-shaped answer; else `{ contentType, json }` or `{ contentType, text }`. */
let answer = null;

function createAnswer(parsed) {
  return JSON.stringify({ Status: 'Success', Message: { Id: randomUUID(), RelatedId: typeof parsed?.RelatedProspectId === 'string' ? parsed.RelatedProspectId : randomUUID() } });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let parsed = null;
    try {
      if (chunks.length > 0) parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"Status":"Error","ExceptionType":"MXInvalidJsonException"}');
      return;
    }
    if (req.url === '/_baseline/answer') {
      const a = parsed ?? {};
      if (typeof a.body !== 'string') answer = null;
      else if (/json/i.test(a.contentType ?? '')) answer = { contentType: a.contentType, json: JSON.parse(a.body) };
      else answer = { contentType: a.contentType ?? 'text/plain', text: a.body };
      res.writeHead(204);
      res.end();
      return;
    }
    const body = answer === null ? createAnswer(parsed) : answer.text ?? JSON.stringify(answer.json);
    res.writeHead(200, { 'content-type': answer?.contentType ?? 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});

server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ msg: 'baseline listening', url: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
