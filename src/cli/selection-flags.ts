/**
 * The selection flags every bulk command shares: `--thing-group NAME [--recursive]`,
 * `--query 'QUERY' [--index AWS_Things]`, `--all-things` and `--control-endpoint URL`. One
 * definition, so each command offers, checks and explains them the same way; the result is the
 * library's one selection type (TargetSelection), taken where the command takes a things file.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../input.js';
import type { TargetSelection } from '../index.js';
import { endpointFlag } from './flags.js';

export interface SelectionFlags {
  thingGroup?: string;
  recursive?: boolean;
  query?: string;
  index?: string;
  allThings?: boolean;
  controlEndpoint?: string;
}

export interface AddSelectionFlagsOptions {
  /** Also add `--all-things` (false where the command already defines it its own way). Default true. */
  allThings?: boolean;
  /** Also add `--control-endpoint` (false where the command already defines it). Default true. */
  controlEndpoint?: boolean;
}

/** Adds the selection flags to `command`. */
export function addSelectionFlags(command: Command, o: AddSelectionFlagsOptions = {}): Command {
  command
    .option('--thing-group <name>', 'targets: the things of a thing group (ListThingsInThingGroup, page by page)')
    .option('--recursive', 'with --thing-group: the things of its subgroups too')
    .option(
      '--query <query>',
      "targets: the things a fleet indexing query finds (SearchIndex), e.g. 'attributes.site:berlin AND shadow.reported.fw:1.4*'",
    )
    .option('--index <name>', 'with --query: the index to search (only AWS_Things)');
  if (o.allThings !== false) command.option('--all-things', 'targets: every thing of the account (ListThings)');
  if (o.controlEndpoint !== false) {
    command.option(
      '--control-endpoint <url>',
      'control plane for --thing-group, --query, --all-things (default: the data endpoint for an emulator, https://iot.<region>.amazonaws.com for AWS)',
    );
  }
  return command;
}

/** The selection the flags give, or undefined; contradictions are usage errors naming the flags. */
export function selectionFromFlags(flags: SelectionFlags): TargetSelection | undefined {
  const given = [
    flags.thingGroup !== undefined ? '--thing-group' : undefined,
    flags.query !== undefined ? '--query' : undefined,
    flags.allThings === true ? '--all-things' : undefined,
  ].filter((f) => f !== undefined);
  if (given.length > 1)
    throw new InvalidArgumentError(`give one of --thing-group, --query and --all-things, not ${given.join(' and ')}`);
  if (flags.recursive === true && flags.thingGroup === undefined)
    throw new InvalidArgumentError('--recursive: only with --thing-group');
  if (flags.index !== undefined && flags.query === undefined)
    throw new InvalidArgumentError('--index: only with --query');
  if (flags.thingGroup !== undefined) {
    if (!/^[a-zA-Z0-9:_-]{1,128}$/.test(flags.thingGroup))
      throw new InvalidArgumentError(
        `--thing-group: expected a thing group name (1-128 of a-z A-Z 0-9 : _ -), got "${flags.thingGroup}"`,
      );
    return flags.recursive === true
      ? { thingGroup: flags.thingGroup, recursive: true }
      : { thingGroup: flags.thingGroup };
  }
  if (flags.query !== undefined) {
    if (flags.query.trim() === '')
      throw new InvalidArgumentError('--query: expected a fleet indexing query such as attributes.site:berlin');
    if (flags.index !== undefined && flags.index !== 'AWS_Things')
      throw new InvalidArgumentError(
        `--index: only AWS_Things (the things index) can select things, got "${flags.index}"`,
      );
    return flags.index === undefined ? { query: flags.query } : { query: flags.query, index: flags.index };
  }
  if (flags.allThings === true) return { allThings: true };
  return undefined;
}

/** `--control-endpoint`, checked by the one endpoint parser (undefined when absent). */
export function controlEndpointFromFlags(flags: SelectionFlags): string | undefined {
  return endpointFlag('--control-endpoint', flags.controlEndpoint);
}
