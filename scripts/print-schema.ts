/** Writes the sorted SDL to schema/schema.graphql (`npm run schema:print`); a test fails when it is stale. */
import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { schema } from '../src/graphql/schema/index.ts';

const target = new URL('../schema/schema.graphql', import.meta.url);
writeFileSync(target, `${printSchema(schema)}\n`);
console.log(`wrote ${target.pathname}`);
