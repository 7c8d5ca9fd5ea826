/** The one ajv set-up for the API's schemas: the formats and keywords that Kubernetes' OpenAPI uses. */
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { isAcceptedDuration } from './grammar.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const KUBERNETES_KEYWORDS = [
  'x-kubernetes-validations',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
];

/** A strict ajv that knows Kubernetes' integer and duration formats, so none is reported as unknown. */
export function schemaAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: false });
  addFormats(ajv);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('duration', { type: 'string', validate: isAcceptedDuration });
  for (const keyword of KUBERNETES_KEYWORDS) ajv.addKeyword(keyword);
  return ajv;
}
