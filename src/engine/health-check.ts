/**
 * A rollout's health expression (`reported.health == "ok"`), compiled once: a predicate on the
 * shadow document as read. The language is the one of target conditions (ShadowCondition:
 * paths into desired, reported, delta and version; comparisons; and/or/not; exists()).
 */
import { InvalidArgumentError } from '../errors.js';
import { ShadowCondition } from '../shadow/shadow-condition.js';
import type { ShadowDocument } from '../shadow/types.js';

/** True when the thing is healthy by the expression; `undefined` is "no shadow". */
export type HealthCheck = (doc: ShadowDocument | undefined) => boolean;

/** Compiles `expression`; a syntax error is an InvalidArgumentError naming `field` (default `health`). */
export function compileHealthCheck(expression: string, field = 'health'): HealthCheck {
  let condition: ShadowCondition;
  try {
    condition = new ShadowCondition(expression);
  } catch (err) {
    if (err instanceof InvalidArgumentError)
      throw new InvalidArgumentError(err.message.replace(/^where:/, `${field}:`), { cause: err });
    throw err;
  }
  return (doc) => condition.matches(doc);
}
