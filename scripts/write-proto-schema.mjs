// Rewrites proto/v1/schema.json from the compiled TypeBox schemas (run after `npm run build`).
import { writeFileSync } from 'node:fs';
import { schemaDocument } from '../dist/proto/v1/schema-document.js';
writeFileSync(new URL('../proto/v1/schema.json', import.meta.url), schemaDocument());
console.log('wrote proto/v1/schema.json');
