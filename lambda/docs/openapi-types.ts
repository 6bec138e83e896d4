/**
 * The shape of the OpenAPI 3.1 description `buildOpenApiDocument` returns
 * (https://spec.openapis.org/oas/v3.1.0): only what the document uses, and nothing that is not
 * plain JSON, so `JSON.stringify` carries all of it (the docs function serves it as is, the
 * typed client is generated from it).
 */

import type { JsonValue } from '../catalog/records';

export type { JsonValue };

/** A JSON object. */
export type JsonObject = { readonly [key: string]: JsonValue };

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1). */
export type SchemaObject = JsonObject;

/** A pointer into the same document, such as `#/components/schemas/Problem`. */
export interface ReferenceObject {
  readonly $ref: string;
}

export interface ServerObject {
  readonly url: string;
  readonly description?: string;
  readonly variables?: Readonly<
    Record<string, { readonly default: string; readonly description?: string }>
  >;
}

export interface HeaderObject {
  readonly description: string;
  readonly required?: boolean;
  readonly schema: SchemaObject;
}

export interface ParameterObject {
  readonly name: string;
  readonly in: 'header' | 'path';
  readonly description: string;
  readonly required: boolean;
  readonly schema: SchemaObject;
}

export interface MediaTypeObject {
  readonly schema: SchemaObject;
}

export interface RequestBodyObject {
  readonly description: string;
  readonly required: boolean;
  readonly content: Readonly<Record<string, MediaTypeObject>>;
}

export interface ResponseObject {
  readonly description: string;
  readonly headers?: Readonly<Record<string, HeaderObject | ReferenceObject>>;
  readonly content?: Readonly<Record<string, MediaTypeObject>>;
}

/** Which schemes a call may use, and with which scopes: any one entry of the list suffices. */
export type SecurityRequirement = Readonly<Record<string, readonly string[]>>;

export interface OperationObject {
  readonly operationId: string;
  readonly tags: readonly string[];
  readonly summary: string;
  readonly description: string;
  readonly security: readonly SecurityRequirement[];
  readonly parameters: readonly (ParameterObject | ReferenceObject)[];
  readonly requestBody: RequestBodyObject;
  /** By status (`200`, `400`, ..., `4XX`). */
  readonly responses: Readonly<Record<string, ResponseObject | ReferenceObject>>;
  /** Facts of the operation catalog, for tools (sensitivity, retry safety, grants). */
  readonly [extension: `x-${string}`]: JsonValue;
}

/** Every route of the partner API is a POST. */
export interface PathItemObject {
  readonly post: OperationObject;
}

export type SecuritySchemeObject =
  | {
      readonly type: 'oauth2';
      readonly description: string;
      readonly flows: {
        readonly clientCredentials: {
          readonly tokenUrl: string;
          readonly scopes: Readonly<Record<string, string>>;
        };
      };
    }
  | {
      readonly type: 'http';
      readonly scheme: 'bearer';
      readonly bearerFormat: string;
      readonly description: string;
    };

export interface TagObject {
  readonly name: string;
  readonly description: string;
  readonly externalDocs?: { readonly url: string; readonly description?: string };
}

/** The OpenAPI 3.1 description of the partner contract. */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: {
    readonly title: string;
    readonly version: string;
    readonly summary: string;
    readonly description: string;
    readonly contact: { readonly name: string; readonly url?: string; readonly email?: string };
    readonly license: { readonly name: string; readonly identifier?: string };
  };
  readonly servers: readonly ServerObject[];
  readonly security: readonly SecurityRequirement[];
  readonly tags: readonly TagObject[];
  /** `/v1/{controller}/{operation}`, one per catalog operation. */
  readonly paths: Readonly<Record<string, PathItemObject>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, SchemaObject>>;
    readonly responses: Readonly<Record<string, ResponseObject>>;
    readonly headers: Readonly<Record<string, HeaderObject>>;
    readonly parameters: Readonly<Record<string, ParameterObject>>;
    readonly securitySchemes: Readonly<Record<string, SecuritySchemeObject>>;
  };
}
