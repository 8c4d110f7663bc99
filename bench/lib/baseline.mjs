/**
 * The bench's yardstick: a bare `node:http` server that does the least any JSON API must do. It
 * reads the body, parses it as JSON, and answers a JSON body shaped like leadtrail's answer to a
 * `Create` (GETs get the same answer). No framework, no storage, no logging: the ratio
 * leadtrail / baseline, measured in the same round on the same machine, is what the bench reports.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';

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
    const body = JSON.stringify({ Status: 'Success', Message: { Id: randomUUID(), RelatedId: typeof parsed?.RelatedProspectId === 'string' ? parsed.RelatedProspectId : randomUUID() } });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
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
