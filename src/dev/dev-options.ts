// What `codex-bridge dev` is asked to run and reports once it runs: shared by the plan, the
// launcher and their callers without importing one another.

export interface DevOptions {
  /** Temporal gRPC port; default: the port of config.temporal.address when it is loopback, else 7233. */
  temporalPort?: number;
  /** Temporal Web UI port; default 8233. */
  uiPort?: number;
  /** FerretDB port; default: the port of config.mongo.uri when it is loopback, else 27017. */
  storePort?: number;
  /** Where the SQLite files, logs, pid file and API token live; default `.data` in the project. */
  dataDir?: string;
  /** host:port the API binds; default config.api.addr. */
  apiAddr?: string;
  /**
   * The environment: an explicitly set TEMPORAL_ADDRESS / MONGODB_URI means "use my server, start
   * none"; also the base of the children's environment. Default process.env.
   */
  env?: NodeJS.ProcessEnv;
  /** Replaces `node bin/codex-bridge.js worker` (tests, or a worker run some other way). */
  workerCommand?: string[];
  /** Replaces `node bin/codex-bridge.js serve`; must listen on apiAddr. */
  apiCommand?: string[];
  /** Progress lines and the summary block; default console.log. */
  log?: (line: string) => void;
  /** Aborting stops everything; runDev then resolves. */
  signal?: AbortSignal;
  /** Called once everything is up (after the summary is printed). */
  onReady?: (ready: DevReady) => void;
}

/** What is running, for callers and tests. Pids are also process-group ids. */
export interface DevReady {
  temporal: { address: string; uiUrl: string | undefined; pid: number | undefined };
  store: { uri: string; pid: number | undefined };
  worker: { pid: number | undefined };
  api: { url: string; pid: number | undefined };
  dataDir: string;
}
