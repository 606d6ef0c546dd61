// Request types from the routes' own JSON Schemas (json-schema-to-ts), so a route's params, querystring and
// body are typed by the schema that validates them and cannot drift from it. Answers are not typed here:
// the response schemas serialize them (fast-json-stringify drops what a schema does not list) and the tests
// check them; typing replies from those schemas would demand index signatures of every domain type.
import type { FastifyTypeProvider } from 'fastify';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

export interface SchemaTypes extends FastifyTypeProvider {
  validator: this['schema'] extends JSONSchema ? FromSchema<this['schema']> : unknown;
  serializer: unknown;
}
