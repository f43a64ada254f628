/**
 * A multi-account plan: the accounts (or regions) one submission runs a job in at once, each
 * with its data endpoint, region, credentials (a profile, a role to assume through the standard
 * chain, or the default chain), its targets and its quota.
 *
 * ```yaml
 * # accounts.yaml
 * accounts:
 *   - name: eu-prod                        # unique: the report's sections, the messages, the file names
 *     endpoint: https://abc-ats.iot.eu-west-1.amazonaws.com
 *     region: eu-west-1
 *     profile: prod-eu                     # or roleArn: arn:aws:iam::111122223333:role/shadowfleet
 *     targets: { thingGroup: pumps }       # or { things: ./eu.txt } (relative to this file), { query }, { allThings: true }
 *     rate: { perSecond: 4000 }            # this account's quota per operation
 * ```
 *
 * The file is checked whole before the first request; every problem is one line naming the
 * file, the account (index and name) and the field:
 * `accounts.yaml: accounts[1] (us-prod): endpoint: required (the account's data endpoint URL)`.
 */
import { access, constants } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { CredentialSourceOptions } from '../../client/credential-source.js';
import { parseDataEndpoint } from '../../client/resolve-data-endpoint.js';
import { checkTargetSelection, type TargetSelection } from '../../engine/target-selection.js';
import { positiveField, positiveIntField } from '../options/option-schema.js';
import { formatIssues, parseSpecText, readSpecFile, stripUndefined, throwSpecProblems } from '../options/spec-file.js';
import type { RolloutRateOptions } from '../rollout/rollout-spec.js';

/** One account of a plan, resolved: paths absolute, selections checked. */
export interface PlanAccount extends CredentialSourceOptions {
  name: string;
  endpoint: string;
  region?: string;
  /** Control-plane endpoint of a selection; default as for a rollout (the data endpoint, or iot.<region>.amazonaws.com). */
  controlEndpoint?: string;
  /** A things file (absolute path) or a selection; absent = the job's own targets (the spec's `targets:`). */
  targets?: string | TargetSelection;
  /** This account's quota, per operation. */
  rate?: RolloutRateOptions;
}

export interface AccountPlan {
  /** The plan file, as given (messages name it). */
  file: string;
  accounts: PlanAccount[];
}

/** Names go into file names (journals) and messages: letters, digits, `.`, `_` and `-`. */
const ACCOUNT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NAME_EXPECTED = 'expected a name of letters, digits, ".", "_" or "-" (at most 64)';

const accountSchema = z.strictObject(
  {
    name: z.string({ error: NAME_EXPECTED }).regex(ACCOUNT_NAME, { error: NAME_EXPECTED }),
    endpoint: z.string({ error: "expected the account's data endpoint URL" }).optional(),
    region: z.string({ error: 'expected a region such as eu-west-1' }).min(1).optional(),
    profile: z.string({ error: 'expected a profile of the shared AWS files' }).min(1).optional(),
    roleArn: z
      .string({ error: 'expected a role ARN (arn:aws:iam::<account>:role/<name>)' })
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, {
        error: 'expected a role ARN (arn:aws:iam::<account>:role/<name>)',
      })
      .optional(),
    externalId: z.string({ error: 'expected a string' }).min(2).optional(),
    sessionName: z
      .string({ error: 'expected a session name' })
      .regex(/^[\w+=,.@-]{2,64}$/, { error: 'expected 2 to 64 of letters, digits and +=,.@_-' })
      .optional(),
    controlEndpoint: z.string({ error: 'expected a URL' }).optional(),
    targets: z
      .record(z.string(), z.unknown(), {
        error: 'expected { things: FILE }, { thingGroup, recursive }, { query, index } or { allThings: true }',
      })
      .optional(),
    rate: z
      .strictObject({
        perSecond: positiveField().optional(),
        thingPerSecond: positiveField().optional(),
        thingInFlight: positiveIntField().optional(),
      })
      .optional(),
  },
  { error: 'expected an account: { name, endpoint, region, profile or roleArn, targets, rate }' },
);

const planSchema = z.strictObject(
  {
    accounts: z
      .array(accountSchema, { error: 'expected a list of accounts' })
      .min(1, { error: 'expected at least one account' }),
  },
  { error: 'expected a mapping with accounts: [...]' },
);

/** `accounts[1] (us-prod)` for messages. */
function accountLabel(index: number, name: unknown): string {
  return typeof name === 'string' && name !== '' ? `accounts[${index}] (${name})` : `accounts[${index}]`;
}

/** Issue paths under an account name it by index and name: `accounts[1] (us-prod): rate.perSecond: ...`. */
function accountIssues(data: unknown, issues: readonly z.core.$ZodIssue[]): string[] {
  const list = (data as { accounts?: unknown } | null)?.accounts;
  return issues.flatMap((iss) => {
    const [head, index, ...rest] = iss.path;
    if (head !== 'accounts' || typeof index !== 'number') return formatIssues([iss]);
    const name = Array.isArray(list) ? (list[index] as { name?: unknown } | undefined)?.name : undefined;
    return formatIssues([{ ...iss, path: rest } as z.core.$ZodIssue]).map(
      (line) => `${accountLabel(index, name)}: ${line.replace(/^\(root\): /, '')}`,
    );
  });
}

type ParsedAccount = z.infer<typeof accountSchema>;

/** The checks of one account beyond its fields' shapes; returns problems (without the label). */
function accountProblems(a: ParsedAccount): string[] {
  const problems: string[] = [];
  if (a.endpoint === undefined || a.endpoint === '')
    problems.push("endpoint: required (the account's data endpoint URL); shadowfleet does not guess an account");
  else problems.push(...caught(() => parseDataEndpoint(a.endpoint!, 'endpoint')));
  if (a.controlEndpoint !== undefined)
    problems.push(...caught(() => parseDataEndpoint(a.controlEndpoint!, 'controlEndpoint')));
  if (a.profile !== undefined && a.roleArn !== undefined)
    problems.push(
      'profile, roleArn: give one, not both (a role is assumed with the default chain; a profile that assumes a role says so itself: role_arn and source_profile)',
    );
  for (const k of ['externalId', 'sessionName'] as const)
    if (a[k] !== undefined && a.roleArn === undefined) problems.push(`${k}: only with roleArn`);
  if (a.targets !== undefined) {
    const { things, ...rest } = a.targets;
    if (things !== undefined) {
      if (typeof things !== 'string' || things === '')
        problems.push('targets.things: expected the path of a things file (one name a line, CSV or JSON lines)');
      if (Object.keys(rest).length > 0)
        problems.push(`targets: give things or a selection, not both (${Object.keys(rest).join(', ')})`);
    } else problems.push(...caught(() => checkTargetSelection(stripUndefined(a.targets!), 'targets')));
  }
  return problems;
}

function caught(f: () => unknown): string[] {
  try {
    f();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

/** One resolved account: a things path is taken relative to the plan file. */
function resolveAccount(a: ParsedAccount, file: string): PlanAccount {
  const out: PlanAccount = { name: a.name, endpoint: a.endpoint! };
  for (const k of ['region', 'profile', 'roleArn', 'externalId', 'sessionName', 'controlEndpoint'] as const) {
    const v = a[k];
    if (v !== undefined) out[k] = v;
  }
  if (a.targets !== undefined) {
    const things = a.targets.things;
    out.targets =
      typeof things === 'string'
        ? isAbsolute(things)
          ? things
          : resolve(dirname(resolve(file)), things)
        : checkTargetSelection(stripUndefined(a.targets), 'targets');
  }
  if (a.rate !== undefined) out.rate = stripUndefined(a.rate);
  return out;
}

/**
 * Validates a plan already parsed from YAML/JSON. Throws ConfigError listing every problem, one
 * a line, each naming `file`, the account and the field.
 */
export function validateAccountPlan(data: unknown, file: string): AccountPlan {
  const parsed = planSchema.safeParse(data ?? {});
  if (!parsed.success) throwSpecProblems(accountIssues(data, parsed.error.issues), file);
  const accounts = parsed.data!.accounts;
  const problems: string[] = [];
  const seen = new Map<string, number>();
  accounts.forEach((a, i) => {
    const label = accountLabel(i, a.name);
    const before = seen.get(a.name);
    if (before !== undefined) problems.push(`${label}: name: already used by accounts[${before}]`);
    else seen.set(a.name, i);
    for (const p of accountProblems(a)) problems.push(`${label}: ${p}`);
  });
  throwSpecProblems(problems, file);
  return { file, accounts: accounts.map((a) => resolveAccount(a, file)) };
}

/** Parses plan text (YAML or JSON) and validates it. */
export function parseAccountPlan(text: string, file: string): AccountPlan {
  return validateAccountPlan(parseSpecText(text, file), file);
}

/** Reads and validates a plan file; a things file an account names must be readable. */
export async function loadAccountPlan(file: string): Promise<AccountPlan> {
  const plan = parseAccountPlan(await readSpecFile(file, 'accounts plan'), file);
  const problems: string[] = [];
  for (const [i, a] of plan.accounts.entries()) {
    if (typeof a.targets !== 'string') continue;
    await access(a.targets, constants.R_OK).catch((err: NodeJS.ErrnoException) =>
      problems.push(
        `${accountLabel(i, a.name)}: targets.things: cannot read ${a.targets} (${err.code ?? err.message})`,
      ),
    );
  }
  throwSpecProblems(problems, file);
  return plan;
}
