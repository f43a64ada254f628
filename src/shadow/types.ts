import type { LosslessNumber } from 'lossless-json';

/**
 * JSON values as they appear in shadow documents. A number no double holds exactly is a
 * LosslessNumber keeping its text (see json-text.ts: parse with parseJson, write with stringifyJson).
 */
export type JsonValue = null | boolean | number | LosslessNumber | string | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

/** A shadow document as GetThingShadow returns it (timestamps in epoch seconds). */
export interface ShadowDocument {
  state: { desired?: JsonObject; reported?: JsonObject; delta?: JsonObject };
  metadata: { desired?: JsonObject; reported?: JsonObject };
  version: number;
  timestamp: number;
  clientToken?: string;
}

/** The request document of UpdateThingShadow. */
export interface UpdateDocument {
  state?: { desired?: JsonObject | null; reported?: JsonObject | null } | null;
  version?: number;
  clientToken?: string;
}

/**
 * Compact per-leaf metadata. A number stands for "every leaf below has this timestamp";
 * objects and arrays mirror the state tree where timestamps differ. Expanded to AWS's
 * `{"timestamp":T}` form only when a document is rendered, so a stored shadow whose
 * sections were each written at once costs one number of metadata per section.
 */
export type MetaNode = number | { [k: string]: MetaNode } | MetaNode[];

/** An AWS error answer: HTTP status, the `x-amzn-ErrorType` name and the message. */
export interface ShadowFault {
  readonly status: number;
  readonly errorType: string;
  readonly message: string;
}
