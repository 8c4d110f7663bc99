/**
 * `npm run openapi`: writes openapi/leadtrail.json from the route table and the endpoint schemas
 * (src/http/docs.ts), then the client's types from it (src/client/schema.d.ts). test/openapi fails
 * when either committed file is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiJson } from '../src/http/docs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
fs.writeFileSync(path.join(root, 'openapi/leadtrail.json'), openApiJson());
process.stdout.write('wrote openapi/leadtrail.json\n');
