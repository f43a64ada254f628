/**
 * Name and topic validation with AWS's texts. Validators return `undefined` when the value is
 * fine and the AWS message otherwise, so the emulator and the client share one rule set.
 */

const THING_NAME = /^[a-zA-Z0-9:_-]+$/;
const SHADOW_NAME = /^[$a-zA-Z0-9:_-]+$/;

function constraint(member: string, value: string, rule: string): string {
  return `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${rule}`;
}

function validateName(
  name: unknown,
  member: string,
  max: number,
  pattern: RegExp,
  patternText: string,
): string | undefined {
  if (typeof name !== 'string') return constraint(member, String(name), 'Member must not be null');
  if (name.length < 1) return constraint(member, name, 'Member must have length greater than or equal to 1');
  if (name.length > max) return constraint(member, name, `Member must have length less than or equal to ${max}`);
  if (!pattern.test(name))
    return constraint(member, name, `Member must satisfy regular expression pattern: ${patternText}`);
  return undefined;
}

/** Thing names: 1-128 characters of `[a-zA-Z0-9:_-]`. */
export function validateThingName(name: unknown): string | undefined {
  return validateName(name, 'thingName', 128, THING_NAME, '[a-zA-Z0-9:_-]+');
}

/** Shadow names: 1-64 characters of `[$a-zA-Z0-9:_-]` (`$` is allowed, e.g. `$package`). */
export function validateShadowName(name: unknown): string | undefined {
  return validateName(name, 'shadowName', 64, SHADOW_NAME, '[$a-zA-Z0-9:_-]+');
}

export interface TopicRules {
  /** UTF-8 bytes. AWS: 256. */
  maxTopicBytes: number;
  /** Slashes, not counting a Basic Ingest `$aws/rules/<rule>/` prefix. AWS: 7. */
  maxTopicSlashes: number;
}

export const DEFAULT_TOPIC_RULES: Readonly<TopicRules> = Object.freeze({ maxTopicBytes: 256, maxTopicSlashes: 7 });

const BASIC_INGEST = /^\$aws\/rules\/[^/]+\//;

/**
 * A topic one may publish to: 1-256 UTF-8 bytes, at most 7 `/` (Basic Ingest prefix excluded),
 * no `+`/`#` wildcards, and `$`-prefixed topics only under AWS's `$aws/` namespace.
 * The texts are not AWS's (AWS's exact answers here are UNCONFIRMED).
 */
export function validateTopic(
  topic: unknown,
  rules: TopicRules = DEFAULT_TOPIC_RULES,
  member = 'topic',
): string | undefined {
  if (typeof topic !== 'string' || topic.length === 0)
    return constraint(member, String(topic ?? ''), 'Member must have length greater than or equal to 1');
  if (Buffer.byteLength(topic) > rules.maxTopicBytes)
    return `Topic exceeds the maximum length of ${rules.maxTopicBytes} bytes`;
  if (topic.includes('+') || topic.includes('#')) return 'Topic must not contain wildcard characters';
  const counted = topic.replace(BASIC_INGEST, '');
  let slashes = 0;
  for (let i = 0; i < counted.length; i++) if (counted.charCodeAt(i) === 47) slashes++;
  if (slashes > rules.maxTopicSlashes) return `Topic exceeds the maximum of ${rules.maxTopicSlashes} forward slashes`;
  if (topic.charCodeAt(0) === 36 /* $ */ && !topic.startsWith('$aws/')) return 'Topic is reserved';
  return undefined;
}

/** True for AWS-reserved topics (`$...`), on which nothing can be retained. */
export function isReservedTopic(topic: string): boolean {
  return topic.charCodeAt(0) === 36;
}
