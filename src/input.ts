/**
 * shadowfleet/input: checking input the way shadowfleet does, without loading the client or
 * the engine. The error classes its checks throw, the parsers of what every front end reads
 * (durations, endpoints, files named on a command line), and the package version. It loads
 * nothing but small modules of its own, so a program's start-up path (the CLI's, before a
 * command runs) can import it freely. Everything here is also exported by the package root;
 * every entry point shares the classes.
 */
export {
  /** Base of every error shadowfleet throws; `code` is a stable `SHADOW_ERR_*` string. */
  ShadowError,
  /** True for any shadowfleet error, across copies of the package and worker threads. */
  isShadowError,
  /** Bad options or input, thrown at construction; the message names the option. */
  InvalidArgumentError,
  /** A configuration that cannot work (no endpoint, credentials in a URL...). */
  ConfigError,
  type ShadowErrorCode,
} from './errors.js';
/** The one message template of bad options: `[<source>: ]<field>: expected <what>, got <value>`. */
export { optionMessage, isPositive } from './options/check-positive.js';
/** Parses a duration such as `90s`, `5m` or `1m30s` into milliseconds (undefined when invalid). */
export { parseDuration } from './jobs/options/parse-duration.js';
/** The one endpoint parser: refuses credentials, a query or a fragment, naming the field. */
export { parseDataEndpoint, type DataEndpoint } from './client/resolve-data-endpoint.js';
/** Reads a file the user named, refusing directories, devices and files over `limit` bytes (the message names `what`). */
export { readBounded } from './io/read-bounded.js';
/** The package version. */
export { VERSION } from './version.js';
