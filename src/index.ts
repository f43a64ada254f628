/**
 * shadowfleet: the public API. Every name a library user (and the CLI) needs is listed here by
 * name; the modules behind them are internal and may change. Loading this entry loads no AWS
 * SDK module: the S3, credential-provider and control-plane SDKs are imported where they are
 * used. Other public entry points: `shadowfleet/client` (the data-plane client and the error
 * classes, without the bulk engine) and `shadowfleet/emulator` (the local IoT Data Plane).
 *
 * Read top to bottom, the sections follow the layers: errors, the shadow model, the client, the
 * snapshot sinks, the jobs and their reports. test/api/public-surface.test.ts pins the list.
 */

// Errors: one base class with a stable `code`; AWS errors keep their AWS names.
export {
  /** Base of every error shadowfleet throws; `code` is a stable `SHADOW_ERR_*` string. */
  ShadowError,
  /** True for any shadowfleet error, across copies of the package and worker threads. */
  isShadowError,
  /** Bad options or input, thrown at construction; the message names the option. */
  InvalidArgumentError,
  /** A configuration that cannot work (no endpoint, an unwritable destination...). */
  ConfigError,
  /** A snapshot that cannot be written or read as one (missing manifest, digest mismatch...). */
  SnapshotError,
  /** Any error response of the AWS service, with statusCode, awsErrorType and requestId. */
  ServiceError,
  /** 429 ThrottlingException. */
  ThrottlingError,
  /** 409 ConflictException: the shadow's version changed since it was read. */
  ConflictError,
  /** 404 ResourceNotFoundException. */
  NotFoundError,
  /** 413 RequestEntityTooLargeException. */
  PayloadTooLargeError,
  /** 401/403: credentials refused. */
  UnauthorizedError,
  /** 503 ServiceUnavailableException. */
  ServiceUnavailableError,
  /** A connection failed or was reset (the transport error is the `cause`). */
  NetworkError,
  /** A request or run exceeded its timeout. */
  TimeoutError,
  /** The caller's AbortSignal fired. */
  AbortError,
  /** The account's rate gate failed (its Redis) while the run went on: the item failed. */
  RateGateError,
  /** A worker thread crashed or rejected its task. */
  WorkerError,
  /** Turns a per-item `ErrorRecord` of a job result back into the matching error class. */
  fromErrorRecord,
  type ShadowErrorCode,
  type ServiceErrorDetails,
  type ErrorRecord,
} from './errors.js';

// The shadow document model: the same merge, delta and diff rules as the emulator (and AWS).
export {
  /** Merges an update's state section into a shadow's, as AWS does: null deletes, arrays whole. */
  mergeState,
  /** The `delta` of a shadow: desired values that reported does not match. */
  computeDelta,
  /** The minimal update document turning one state section into another (undefined when equal). */
  diffToUpdate,
  /** AWS's shadow limits (state size, depth...), the defaults of the emulator and the jobs. */
  DEFAULT_SHADOW_LIMITS,
  /** The size AWS counts against the 8 KB state limit: desired plus reported, in UTF-8 bytes. */
  stateSize,
  /** Checks a thing name as AWS does; returns the problem as text, or undefined when valid. */
  validateThingName,
  /** Checks a shadow name as AWS does; returns the problem as text, or undefined when valid. */
  validateShadowName,
  /** Checks an MQTT topic for Publish; returns the problem as text, or undefined when valid. */
  validateTopic,
  /** JSON.parse that keeps numbers a double cannot hold exactly as their text. */
  parseJson,
  /** JSON.stringify that writes those exact numbers back unchanged. */
  stringifyJson,
  /** True for a number parseJson kept as text (its digits are in `.value`). */
  isExactNumber,
  /** A `where` condition on a shadow document (`reported.fw < "1.5.0" and exists(desired.cfg)`), compiled once, no eval. */
  ShadowCondition,
  type JsonValue,
  type JsonObject,
  type ShadowDocument,
  type UpdateDocument,
  type ShadowFault,
} from './shadow/index.js';

// The data-plane and control-plane clients (also published alone as `shadowfleet/client`).
export {
  /** Every AWS IoT Data Plane operation over undici with SigV4, retries and typed errors. */
  IotDataClient,
  /** IotDataClient's defaults. */
  DEFAULT_IOT_DATA_CLIENT_OPTIONS,
  /** The IoT control-plane calls that select targets: ListThings, thing groups, SearchIndex. */
  IotControlClient,
  /** IotControlClient's defaults. */
  DEFAULT_IOT_CONTROL_CLIENT_OPTIONS,
  /** The retry policy the client applies: a delay in ms, or stop. */
  retryDelay,
  /** A server retry hint in ms (x-amz-retry-after or Retry-After); undefined when malformed. */
  parseRetryAfter,
  /** The one endpoint parser: refuses credentials, a query or a fragment, naming the field. */
  parseDataEndpoint,
  /** The account's ATS data endpoint for a region (DescribeEndpoint). */
  resolveDataEndpoint,
  type IotDataClientOptions,
  type ClientCredentials,
  type ClientRetryOptions,
  type ShadowRef,
  type CallOptions,
  type OperationName,
  type RequestHooks,
  type AttemptOutcome,
  type ListNamedShadowsInput,
  type ListNamedShadowsOutput,
  type PublishInput,
  type RetainedMessage,
  type RetainedMessageSummary,
  type ListRetainedMessagesInput,
  type ListRetainedMessagesOutput,
  type RequestStartMessage,
  type RequestRetryMessage,
  type IotControlClientOptions,
  type ControlCallOptions,
  type ListThingsInput,
  type ListThingsInThingGroupInput,
  type SearchIndexInput,
  type ThingAttribute,
  type ThingDocument,
  type Page,
  type RetryPolicyOptions,
  type DataEndpoint,
  type ResolveDataEndpointOptions,
  type CredentialsProvider,
} from './client/index.js';

// The engine's public shapes: rate-gate settings (the AWS quota defaults) and per-thing results.
export {
  /** The rate gates' defaults: AWS's per-account and per-thing quotas. */
  DEFAULT_RATE_GATE_OPTIONS,
  type RateGate,
  type RateGateOptions,
  type RateGateStats,
  type ThingLimitOptions,
  type TargetItem,
  type ItemResult,
} from './engine/index.js';
/** Targets as fleets are organised: a thing group, a fleet indexing query, every thing; and where their control-plane calls go. */
export type { TargetSelection, ControlPlaneAccess } from './engine/target-selection.js';

// Snapshots: where they are written and how they are read back.
export {
  /** The sink for a destination: a local directory or `s3://bucket/prefix/`. */
  createSnapshotSink,
  /** A snapshot in a local directory (atomic rename, manifest last). */
  LocalSink,
  /** A snapshot under an S3 prefix (streamed multipart upload, aborted on failure). */
  S3Sink,
  /** Writes snapshot records as gzip JSON lines and the manifest through a sink. */
  SnapshotWriter,
  /** Reads a snapshot back, checking its size and SHA-256 against the manifest. */
  SnapshotReader,
  /** Parses a snapshot location: a directory, or `s3://bucket/prefix/`. */
  parseSnapshotLocation,
  type SnapshotSink,
  type SnapshotLocation,
  type LocalSinkOptions,
  type S3SinkOptions,
  type S3ClientOptions,
  type CreateSnapshotSinkOptions,
  type SnapshotWriterOptions,
  type SnapshotReaderOptions,
} from './sinks/index.js';
export type { SnapshotRecord, SnapshotFailure, SnapshotManifest } from './sinks/snapshot-format.js';

// The jobs: each a function with typed options and a typed result.
export {
  /** Changes desired state on many shadows: rate-limited, version-guarded, minimal, resumable. */
  runRollout,
  /** runRollout's defaults. */
  DEFAULT_ROLLOUT_OPTIONS,
  /** Reads a rollout spec file (YAML or JSON) into rollout options; errors name file and field. */
  loadRolloutSpec,
  /** Parses rollout spec text. */
  parseRolloutSpec,
  /** Validates a parsed rollout spec object. */
  validateRolloutSpec,
  /** Checks rollout options' rates, ramp, abort criteria, counts and caps through the spec's schema; messages name the field and its source. */
  checkRolloutOptions,
  /** Parses an inline desired document (`--set '{"fw":"2.4.1"}'`). */
  parseInlineDesired,
  /** Reads every chosen shadow of a fleet into a snapshot (gzip JSON lines and a manifest). */
  runSnapshot,
  /** runSnapshot's defaults. */
  DEFAULT_SNAPSHOT_OPTIONS,
  /** Checks snapshot options' rates, counts and caps; messages name the field and its source. */
  checkSnapshotOptions,
  /** Writes a snapshot back, sending only the differences, version-guarded. */
  runRestore,
  /** runRestore's defaults. */
  DEFAULT_RESTORE_OPTIONS,
  /** Checks restore options' counts and caps; messages name the field and its source. */
  checkRestoreOptions,
  /** Compares two snapshots, or a snapshot with the live fleet, by key path. */
  runDiff,
  /** runDiff's defaults. */
  DEFAULT_DIFF_OPTIONS,
  /** Drives a known load and reports throughput, latency percentiles, throttles and cost. */
  runBench,
  /** runBench's defaults. */
  DEFAULT_BENCH_OPTIONS,
  /** The operations a benchmark can mix: get, update, delete, list, publish. */
  BENCH_OPERATIONS,
  /** Reads a benchmark scenario file (YAML or JSON). */
  loadBenchScenario,
  /** Checks bench options' counts and rate through the scenario's schema; messages name the field and its source. */
  checkBenchOptions,
  /** Parses benchmark scenario text. */
  parseBenchScenario,
  /** Validates a parsed benchmark scenario object. */
  validateBenchScenario,
  /** The report model (summary rows and per-operation table) of a benchmark result. */
  benchReportModel,
  /** The whole job on an emulator in its own process: seed, roll out, converge, snapshot, report. */
  runDemo,
  /** runDemo's defaults. */
  DEFAULT_DEMO_OPTIONS,
  /** Parses a duration such as `90s`, `5m` or `1m30s` into milliseconds (undefined when invalid). */
  parseDuration,
  type RolloutOptions,
  type RolloutProgress,
  type RolloutPlan,
  type RolloutResult,
  type RolloutSpec,
  type RolloutSummary,
  type RolloutConvergence,
  type FailureType,
  type AbortCriterion,
  type RampOptions,
  type RolloutRateOptions,
  type RolloutTimeouts,
  type RolloutSafety,
  type SnapshotOptions,
  type SnapshotProgress,
  type SnapshotResult,
  type RestoreOptions,
  type RestoreProgress,
  type RestoreFailure,
  type RestoreResult,
  type DiffOptions,
  type DiffSummary,
  type DiffResult,
  type ShadowChange,
  type BenchOptions,
  type BenchProgress,
  type BenchResult,
  type BenchOperation,
  type BenchOperationResult,
  type BenchPricing,
  type BenchScenario,
  type DemoOptions,
  type DemoStep,
  type DemoProgress,
  type DemoResult,
} from './jobs/index.js';

export {
  /** Undoes a rollout from its journal and intent log: restores the keys it wrote, keeps (and lists) keys changed since. */
  runRollback,
  type RollbackOptions,
  type RollbackProgress,
  type RollbackResult,
} from './jobs/rollback/rollback.js';
export {
  /** One sync pass: mirrors shadows from a data plane or a snapshot to another, sending only differences, version-guarded. */
  runSync,
  /** runSync's defaults. */
  DEFAULT_SYNC_OPTIONS,
  type SyncOptions,
  type SyncSideOptions,
  type SyncPassResult,
  type SyncFailure,
  /** A sync held open between passes (`--watch`): each `pass()` sends only what moved on the source. */
  SyncSession,
} from './jobs/sync/sync.js';
export {
  /** Reads and validates a fleet file (fleet selection, ordered rules with their desired fragments). */
  loadFleetFile,
  /** Validates fleet file text (YAML or JSON). */
  parseFleetFile,
  type FleetFile,
  type FleetRule,
  type FleetSelection,
} from './jobs/fleet/fleet-file.js';
export {
  /** What an apply of a fleet file would change: per rule, shadows, key paths, bytes and time. */
  runFleetPlan,
  type FleetPlanResult,
  type FleetRulePlan,
} from './jobs/fleet/fleet-plan-job.js';
export {
  /** Applies a fleet file through rollouts; a second apply writes nothing. */
  runFleetApply,
  type FleetApplyOptions,
  type FleetApplyResult,
} from './jobs/fleet/fleet-apply.js';
export {
  /** Which governed shadows left the fleet file's declared state, or never followed it. */
  runFleetDrift,
  /** The report page model of a drift run. */
  driftReportModel,
  type FleetDriftOptions,
  type FleetDriftResult,
  type DriftEntry,
} from './jobs/fleet/fleet-drift-job.js';
export type { FleetJobOptions } from './jobs/fleet/fleet-options.js';

// Multi-account plans: one rollout in every account of a plan at once, one result.
export {
  /** Runs one rollout in every account of a plan at once: a section per account and their total. */
  runRolloutAccounts,
  /** The journal of one account of a plan (`<journal>.<account>`). */
  accountJournalPath,
  type AccountsRolloutOptions,
  type AccountsRolloutResult,
  type AccountsRolloutProgress,
  type AccountRolloutSection,
} from './jobs/accounts/run-accounts.js';
export {
  /** Takes a snapshot of every account of a plan at once, each under `<out>/<name>/`: a section per account and their total. */
  runSnapshotAccounts,
  /** Where account `name`'s snapshot goes under a destination. */
  accountSnapshotLocation,
  type AccountsSnapshotOptions,
  type AccountsSnapshotResult,
  type AccountsSnapshotProgress,
  type AccountsSnapshotTotal,
  type AccountSnapshotSection,
} from './jobs/accounts/snapshot-accounts.js';
/** One account's section of a plan's result: its job's result, or the error that stopped it. */
export type { AccountSection } from './jobs/accounts/plan-runs.js';
export {
  /** Reads and checks a plan file of accounts (YAML or JSON); errors name the file, the account and the field. */
  loadAccountPlan,
  /** Parses plan text. */
  parseAccountPlan,
  /** Checks a parsed plan object. */
  validateAccountPlan,
  type AccountPlan,
  type PlanAccount,
} from './jobs/accounts/account-plan.js';
export {
  /** The total of a multi-account result as one rollout result. */
  accountsTotalResult,
  /** The report model of a multi-account result: the total, then a section per account. */
  accountsReportModel,
  /** Writes the report page of a multi-account result. */
  writeAccountsReportPage,
} from './jobs/accounts/accounts-report.js';

// Report pages: one self-contained HTML file per run.
export {
  /** Renders a report model as one self-contained HTML page. */
  renderReportPage,
  /** Renders and writes a report page (atomically). */
  writeReportPage,
  /** Writes the report page of a rollout result. */
  writeRolloutReportPage,
  /** The report model of a rollout result. */
  rolloutReportModel,
  /** An HDR latency histogram with percentiles and buckets for the charts. */
  LatencyHistogram,
  type ReportModel,
  type LatencySummary,
  /** What the rollout report page reads of a result (a `RolloutResult` is one). */
  type RolloutReportInput,
} from './report/index.js';
/** Checks a report page destination before a run, so a bad path fails before the first request. */
export { checkReportPageDestination } from './report/write-report-page.js';

/** The package version. */
export { VERSION } from './version.js';
