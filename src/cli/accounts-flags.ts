/** `--accounts`: the flags an account of the plan gives, refused beside it (rollout and snapshot). */

/** The flags an account of the plan gives instead. */
const PER_ACCOUNT_FLAGS: ReadonlyArray<[string, string]> = [
  ['endpoint', '--endpoint'],
  ['region', '--region'],
  ['things', '--things'],
  ['thingGroup', '--thing-group'],
  ['query', '--query'],
  ['allThings', '--all-things'],
  ['controlEndpoint', '--control-endpoint'],
];

/** Refuses the flags an account gives (endpoint, region, targets) beside --accounts. */
export function checkAccountsFlags(flags: object, InvalidArgumentError: new (m: string) => Error): void {
  const given = PER_ACCOUNT_FLAGS.filter(([k]) => (flags as Record<string, unknown>)[k] !== undefined).map(
    ([, flag]) => flag,
  );
  if (given.length > 0)
    throw new InvalidArgumentError(
      `--accounts: each account of the plan gives its endpoint, region and targets; drop ${given.join(', ')}`,
    );
}
