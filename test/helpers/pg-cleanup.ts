/** vitest setup file of the PostgreSQL project: drops the schemas this test file's servers used. */
import { afterAll } from 'vitest';
import { dropSchemas, testSchemas } from './pg.js';

afterAll(async () => {
  await dropSchemas(testSchemas);
  testSchemas.clear();
});
