// No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked by reading them:
// settings the code knows and accepts, addresses that reach the services, the search attributes,
// the API port, the entrypoint. Each check is a function returning its problems; the second half
// runs every check against a deliberately broken copy, so no check can pass vacuously.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');
const SEARCH_ATTRIBUTES = ['CodexTaskStatus', 'NotificationStatus', 'NotifyTarget'];
/** Stand-ins for the variables a user must provide (`${VAR:?…}`). */
const SAMPLE_VALUES: Record<string, string> = {
  CODEX_BRIDGE_API_TOKEN: 'sample-token-0123456789',
  POSTGRES_PASSWORD: 'sample-password-0123',
};

type PortSpec = string | number | { target?: number | string; published?: number | string; host_ip?: string };
interface Service {
  image?: string;
  build?: string | { context?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: PortSpec[];
  expose?: (string | number)[];
  healthcheck?: { test?: string | string[] };
  depends_on?: string[] | Record<string, { condition?: string }>;
  deploy?: { replicas?: number };
}
interface Compose {
  services: Record<string, Service>;
}
interface Files {
  compose: Compose;
  dockerfile: string;
}
type Check = (files: Files) => string[];

function readFiles(): Files {
  // merge: the worker and the API share their settings through a YAML merge key (`<<`), as Compose allows.
  const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
  return { compose, dockerfile: fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8') };
}

// ---- reading Compose values -------------------------------------------------------------------

/** Compose interpolation: `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR}`, `$VAR`, `$$`. */
function interpolate(value: string, problems: string[], where: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === '$$') return '$';
      const name = (braced ?? bare)!;
      if (op === ':-' || op === '-') return arg ?? '';
      if (name in SAMPLE_VALUES) return SAMPLE_VALUES[name]!;
      problems.push(`${where}: \${${name}} has no default and no sample value in this test`);
      return '';
    },
  );
}

function environmentOf(service: Service | undefined): Record<string, string> {
  const env = service?.environment ?? {};
  const entries: [string, string][] = Array.isArray(env)
    ? env.map((line) => [line.split('=')[0]!, line.slice(line.indexOf('=') + 1)])
    : Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]);
  return Object.fromEntries(entries);
}

/** Resolved environment of a service, as the container would see it. */
function resolvedEnvironment(name: string, service: Service | undefined, problems: string[]): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [key, value] of Object.entries(environmentOf(service)))
    resolved[key] = interpolate(value, problems, `${name}.${key}`);
  return resolved;
}

function commandOf(service: Service | undefined): string[] {
  const c = service?.command ?? [];
  return Array.isArray(c) ? c.map(String) : c.trim().split(/\s+/);
}

/** `--flag value` or `--flag=value`, every occurrence. */
function flagValues(args: string[], flag: string): string[] {
  const values: string[] = [];
  args.forEach((arg, i) => {
    if (arg === flag && i + 1 < args.length) values.push(args[i + 1]!);
    else if (arg.startsWith(`${flag}=`)) values.push(arg.slice(flag.length + 1));
  });
  return values;
}

interface PortMapping {
  hostIp: string | undefined;
  published: number | undefined;
  target: number;
}

function portMappings(service: Service | undefined): PortMapping[] {
  return (service?.ports ?? []).map((p) => {
    if (typeof p === 'object')
      return {
        hostIp: p.host_ip,
        published: p.published === undefined ? undefined : Number(p.published),
        target: Number(p.target),
      };
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = Number(parts.pop());
    const published = parts.length ? Number(parts.pop()) : undefined;
    return { hostIp: parts.length ? parts.join(':') : undefined, published, target };
  });
}

/** Ports other containers can reach: published or exposed container ports. */
function containerPorts(service: Service | undefined): number[] {
  return [
    ...portMappings(service).map((m) => m.target),
    ...(service?.expose ?? []).map((p) => Number(String(p).replace(/\/(tcp|udp)$/, ''))),
  ];
}

function hostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return i < 0 ? [address, NaN] : [address.slice(0, i), Number(address.slice(i + 1))];
}

// ---- the checks -------------------------------------------------------------------------------

const APPS = ['worker', 'api'] as const;

const servicesExist: Check = ({ compose }) =>
  ['temporal', 'mongo', 'worker', 'api']
    .filter((name) => !compose.services?.[name])
    .map((name) => `service "${name}" is missing`);

const environmentIsKnownAndValidIn =
  (apps: readonly string[]): Check =>
  ({ compose }) => {
    const problems: string[] = [];
    const known = new Set<string>(CONFIG_VARIABLES);
    for (const app of apps) {
      const env = resolvedEnvironment(app, compose.services[app], problems);
      if (Object.keys(env).length === 0) problems.push(`${app} has no environment`);
      for (const key of Object.keys(env))
        if (!known.has(key)) problems.push(`${app}.${key} is not a codex-bridge setting (src/config.ts)`);
      try {
        loadConfig(env);
      } catch (err) {
        problems.push(`${app}: ${(err as Error).message}`);
      }
    }
    return problems;
  };
const environmentIsKnownAndValid = environmentIsKnownAndValidIn(APPS);

const addressesReachTheServices: Check = ({ compose }) => {
  const problems: string[] = [];
  const temporalArgs = commandOf(compose.services.temporal);
  // The dev server listens on --port (7233 by default) and, unless --ip is a wildcard, only on localhost.
  const listenPort = Number(flagValues(temporalArgs, '--port')[0] ?? 7233);
  const listenIp = flagValues(temporalArgs, '--ip')[0] ?? 'localhost';
  if (listenIp !== '0.0.0.0') problems.push(`temporal listens on ${listenIp}, which other containers cannot reach`);
  for (const app of APPS) {
    const env = resolvedEnvironment(app, compose.services[app], problems);
    const [tHost, tPort] = hostPort(env.TEMPORAL_ADDRESS ?? '');
    if (tHost !== 'temporal') problems.push(`${app}.TEMPORAL_ADDRESS host is "${tHost}", not the temporal service`);
    if (tPort !== listenPort)
      problems.push(`${app}.TEMPORAL_ADDRESS port ${tPort} is not the one temporal listens on (${listenPort})`);
    if (!containerPorts(compose.services.temporal).includes(tPort))
      problems.push(`${app}.TEMPORAL_ADDRESS port ${tPort} is not a port of the temporal service`);
    const m = /^mongodb:\/\/(?:[^@/]*@)?([^:/?]+)(?::(\d+))?(?:[/?]|$)/.exec(env.MONGODB_URI ?? '');
    const mHost = m?.[1];
    const mPort = Number(m?.[2] ?? 27017);
    if (mHost !== 'mongo') problems.push(`${app}.MONGODB_URI host is "${mHost}", not the mongo service`);
    if (!containerPorts(compose.services.mongo).includes(mPort))
      problems.push(`${app}.MONGODB_URI port ${mPort} is not a port of the mongo service`);
  }
  return problems;
};

const apiPortIsPublished: Check = ({ compose }) => {
  const problems: string[] = [];
  const env = resolvedEnvironment('api', compose.services.api, problems);
  const [host, port] = hostPort(env.CODEX_BRIDGE_API_ADDR ?? '');
  // Bound to the container's loopback, the API would be unreachable through any published port.
  if (host !== '0.0.0.0')
    problems.push(`api.CODEX_BRIDGE_API_ADDR binds ${host}; inside a container it must be 0.0.0.0`);
  const mapping = portMappings(compose.services.api).find((m) => m.target === port);
  if (!mapping) problems.push(`api publishes no port for CODEX_BRIDGE_API_ADDR's port ${port}`);
  else if (mapping.published !== 8787 || mapping.hostIp !== '127.0.0.1') {
    problems.push(
      `api's port ${port} is published on ${mapping.hostIp ?? '*'}:${mapping.published}, not 127.0.0.1:8787`,
    );
  }
  return problems;
};

const webUiIsPublished: Check = ({ compose }) => {
  const uiPort = Number(flagValues(commandOf(compose.services.temporal), '--ui-port')[0] ?? 8233);
  const published = portMappings(compose.services.temporal).find((m) => m.target === uiPort);
  return published?.published === 8233 ? [] : [`the Web UI (temporal's port ${uiPort}) is not published on 8233`];
};

const searchAttributesAreRegistered: Check = ({ compose }) => {
  const registered = new Map(
    flagValues(commandOf(compose.services.temporal), '--search-attribute').map(
      (kv) => kv.split('=') as [string, string],
    ),
  );
  return SEARCH_ATTRIBUTES.filter((key) => registered.get(key) !== 'Keyword').map(
    (key) => `temporal does not register ${key}=Keyword`,
  );
};

const appsRunTheCli: Check = ({ compose }) => {
  const problems: string[] = [];
  const expected = { worker: 'worker', api: 'serve' } as const;
  for (const app of APPS) {
    const service = compose.services[app];
    const args = commandOf(service);
    if (args.join(' ') !== expected[app]) problems.push(`${app} runs "${args.join(' ')}", not "${expected[app]}"`);
    if (service?.entrypoint !== undefined) problems.push(`${app} overrides the image's entrypoint`);
    const context = typeof service?.build === 'string' ? service.build : service?.build?.context;
    if (context !== '.') problems.push(`${app} is not built from this repository`);
  }
  return problems;
};

const startsInOrderWhenHealthy: Check = ({ compose }) => {
  const problems: string[] = [];
  for (const name of ['temporal', 'mongo', 'api']) {
    if (!compose.services[name]?.healthcheck?.test) problems.push(`${name} has no healthcheck`);
  }
  for (const app of APPS) {
    const deps = compose.services[app]?.depends_on;
    for (const server of ['temporal', 'mongo']) {
      const condition = deps && !Array.isArray(deps) ? deps[server]?.condition : undefined;
      if (condition !== 'service_healthy') problems.push(`${app} does not wait for ${server} to be healthy`);
    }
  }
  return problems;
};

const dockerfileRunsTheCli: Check = ({ dockerfile }) => {
  const problems: string[] = [];
  const lines = dockerfile.split('\n').map((l) => l.trim());
  const froms = lines.filter((l) => /^FROM\s/i.test(l));
  if (froms.length === 0 || !froms.every((l) => /^FROM\s+node:20-bookworm-slim(\s|$)/i.test(l)))
    problems.push('not every stage is FROM node:20-bookworm-slim');
  const finalStage = lines.slice(lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true));
  const entrypoint = finalStage.filter((l) => /^ENTRYPOINT\s/i.test(l)).pop();
  let args: unknown;
  try {
    args = entrypoint ? JSON.parse(entrypoint.replace(/^ENTRYPOINT\s+/i, '')) : undefined;
  } catch {
    problems.push('ENTRYPOINT is not in exec (JSON array) form, so signals would not reach node');
  }
  if (JSON.stringify(args) !== JSON.stringify(['node', 'bin/codex-bridge.js']))
    problems.push(`ENTRYPOINT is ${entrypoint ?? 'missing'}, not ["node", "bin/codex-bridge.js"]`);
  const user = finalStage
    .filter((l) => /^USER\s/i.test(l))
    .pop()
    ?.replace(/^USER\s+/i, '');
  if (!user || /^(root|0)(:|$)/.test(user)) problems.push('the final stage does not switch to a non-root USER');
  if (!/\bnpm ci\b/.test(dockerfile)) problems.push('dependencies are not installed with npm ci');
  if (!/\btsc -p tsconfig\.build\.json\b/.test(dockerfile))
    problems.push('the TypeScript build (tsc -p tsconfig.build.json) is missing');
  return problems;
};

const CHECKS: Record<string, Check> = {
  'the temporal, mongo, worker and api services exist': servicesExist,
  'every worker/api environment key is a known setting and the whole validates with loadConfig':
    environmentIsKnownAndValid,
  'TEMPORAL_ADDRESS and MONGODB_URI point at the temporal and mongo services and their ports':
    addressesReachTheServices,
  "the API's published port is CODEX_BRIDGE_API_ADDR's port, on 127.0.0.1:8787": apiPortIsPublished,
  'the Temporal Web UI is published on 8233': webUiIsPublished,
  "the temporal service's command registers the three Keyword search attributes": searchAttributesAreRegistered,
  'the worker and api services run the image entrypoint with `worker` and `serve`': appsRunTheCli,
  'worker and api wait for healthy servers, and the servers have healthchecks': startsInOrderWhenHealthy,
  "the Dockerfile's entrypoint runs bin/codex-bridge.js as a non-root user after npm ci and tsc": dockerfileRunsTheCli,
};

describe('docker-compose.yml and Dockerfile', () => {
  const files = readFiles();
  test.each(Object.entries(CHECKS))('%s', (_name, check) => {
    expect(check(files)).toEqual([]);
  });
});

// ---- every check fails on a file that is wrong in its way ----------------------------------------

type Mutation = [description: string, check: Check, mutate: (files: Files) => void];

const env = (files: Files, app: 'worker' | 'api') => files.compose.services[app]!.environment as Record<string, string>;
const temporalCommand = (files: Files) => files.compose.services.temporal!.command as string[];

const MUTATIONS: Mutation[] = [
  ['mongo service removed', servicesExist, (f) => delete f.compose.services.mongo],
  ['unknown variable in the worker', environmentIsKnownAndValid, (f) => (env(f, 'worker').OPENAI_SECRET_THING = 'x')],
  ['invalid MONGODB_DB in the api', environmentIsKnownAndValid, (f) => (env(f, 'api').MONGODB_DB = 'not a name!')],
  [
    'a required variable without a value',
    environmentIsKnownAndValid,
    (f) => (env(f, 'api').FEISHU_APP_ID = '${SOMETHING_UNSET:?needed}'),
  ],
  [
    'worker talks to localhost Temporal',
    addressesReachTheServices,
    (f) => (env(f, 'worker').TEMPORAL_ADDRESS = 'localhost:7233'),
  ],
  [
    'worker talks to a port Temporal does not serve',
    addressesReachTheServices,
    (f) => (env(f, 'worker').TEMPORAL_ADDRESS = 'temporal:7234'),
  ],
  [
    'api talks to a port mongo does not expose',
    addressesReachTheServices,
    (f) => (env(f, 'api').MONGODB_URI = 'mongodb://mongo:27018'),
  ],
  [
    'temporal listens on localhost only',
    addressesReachTheServices,
    (f) => {
      const cmd = temporalCommand(f);
      cmd[cmd.indexOf('--ip') + 1] = '127.0.0.1';
    },
  ],
  [
    'API address port differs from the published one',
    apiPortIsPublished,
    (f) => (env(f, 'api').CODEX_BRIDGE_API_ADDR = '0.0.0.0:9000'),
  ],
  [
    'API bound to the container loopback',
    apiPortIsPublished,
    (f) => (env(f, 'api').CODEX_BRIDGE_API_ADDR = '127.0.0.1:8787'),
  ],
  ['API published on every interface', apiPortIsPublished, (f) => (f.compose.services.api!.ports = ['8787:8787'])],
  ['Web UI not published', webUiIsPublished, (f) => (f.compose.services.temporal!.ports = ['127.0.0.1:7233:7233'])],
  [
    'NotifyTarget not registered',
    searchAttributesAreRegistered,
    (f) => {
      f.compose.services.temporal!.command = temporalCommand(f).filter((a) => a !== 'NotifyTarget=Keyword');
    },
  ],
  [
    'CodexTaskStatus registered as Text',
    searchAttributesAreRegistered,
    (f) => {
      const cmd = temporalCommand(f);
      cmd[cmd.indexOf('CodexTaskStatus=Keyword')] = 'CodexTaskStatus=Text';
    },
  ],
  ['worker runs serve', appsRunTheCli, (f) => (f.compose.services.worker!.command = ['serve'])],
  [
    'api from a prebuilt image with its own entrypoint',
    appsRunTheCli,
    (f) => {
      delete f.compose.services.api!.build;
      f.compose.services.api!.entrypoint = ['node', 'dist/src/api/server.js'];
    },
  ],
  [
    'worker starts before mongo is healthy',
    startsInOrderWhenHealthy,
    (f) => (f.compose.services.worker!.depends_on = ['temporal', 'mongo']),
  ],
  ['temporal without healthcheck', startsInOrderWhenHealthy, (f) => delete f.compose.services.temporal!.healthcheck],
  [
    'entrypoint runs another script',
    dockerfileRunsTheCli,
    (f) => (f.dockerfile = f.dockerfile.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT ["node", "dist/src/cli/main.js"]')),
  ],
  [
    'entrypoint in shell form',
    dockerfileRunsTheCli,
    (f) => (f.dockerfile = f.dockerfile.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT node bin/codex-bridge.js')),
  ],
  ['runs as root', dockerfileRunsTheCli, (f) => (f.dockerfile = f.dockerfile.replace(/^USER .*$/m, 'USER root'))],
  [
    'another base image',
    dockerfileRunsTheCli,
    (f) => (f.dockerfile = f.dockerfile.replace(/^FROM node:20-bookworm-slim$/m, 'FROM node:22')),
  ],
];

function expectEachMutationCaught(mutations: Mutation[], read: () => Files): void {
  test.each(mutations)('%s', (_description, check, mutate) => {
    const files = read();
    expect(check(files)).toEqual([]); // the mutation, not something else, makes it fail
    mutate(files);
    expect(check(files)).not.toEqual([]);
  });
}

describe('each check rejects a file that is wrong in its way', () => expectEachMutationCaught(MUTATIONS, readFiles));

// ---- docker-compose.prod.yml: the production-shaped layout -------------------------------------

const PROD_APPS = ['codex-bridge-init', 'worker', 'api'] as const;

function readProd(): Files {
  const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.prod.yml'), 'utf8'), {
    merge: true,
  }) as Compose;
  return { compose, dockerfile: '' };
}

const condition = (service: Service | undefined, on: string) => {
  const deps = service?.depends_on;
  return deps && !Array.isArray(deps) ? deps[on]?.condition : undefined;
};

const prodServicesExist: Check = ({ compose }) =>
  ['postgresql', 'temporal-admin-tools', 'temporal', 'temporal-ui', 'mongo', 'codex-bridge-init', 'worker', 'api']
    .filter((name) => !compose.services?.[name])
    .map((name) => `service "${name}" is missing`);

const prodEnvironmentIsKnownAndValid = environmentIsKnownAndValidIn(PROD_APPS);

const prodAddressesReachTheServices: Check = ({ compose }) => {
  const problems: string[] = [];
  const s = compose.services;
  const replSet = flagValues(commandOf(s.mongo), '--replSet')[0];
  if (!replSet) problems.push('mongo does not run as a replica set (--replSet)');
  for (const app of [...PROD_APPS, 'temporal-ui']) {
    const env = resolvedEnvironment(app, s[app], problems);
    const [tHost, tPort] = hostPort(env.TEMPORAL_ADDRESS ?? '');
    if (tHost !== 'temporal' || !containerPorts(s.temporal).includes(tPort))
      problems.push(`${app}.TEMPORAL_ADDRESS ${env.TEMPORAL_ADDRESS} is not a port of the temporal service`);
    if (app === 'temporal-ui') continue;
    const uri = env.MONGODB_URI ?? '';
    const m = /^mongodb:\/\/([^:/?]+)(?::(\d+))?/.exec(uri);
    if (m?.[1] !== 'mongo' || !containerPorts(s.mongo).includes(Number(m?.[2] ?? 27017)))
      problems.push(`${app}.MONGODB_URI ${uri} is not a port of the mongo service`);
    if (new URLSearchParams(uri.split('?')[1] ?? '').get('replicaSet') !== replSet)
      problems.push(`${app}.MONGODB_URI does not name mongo's replica set ${replSet}`);
  }
  const temporal = resolvedEnvironment('temporal', s.temporal, problems);
  const sql = resolvedEnvironment('temporal-admin-tools', s['temporal-admin-tools'], problems);
  const pgPort = containerPorts(s.postgresql);
  if (temporal.POSTGRES_SEEDS !== 'postgresql' || !pgPort.includes(Number(temporal.DB_PORT)))
    problems.push('temporal does not point at the postgresql service');
  if (sql.SQL_HOST !== 'postgresql' || !pgPort.includes(Number(sql.SQL_PORT)))
    problems.push('the schema setup does not point at the postgresql service');
  const pg = resolvedEnvironment('postgresql', s.postgresql, problems);
  for (const [who, user, password] of [
    ['temporal', temporal.POSTGRES_USER, temporal.POSTGRES_PWD],
    ['schema setup', sql.SQL_USER, sql.SQL_PASSWORD],
  ] as const) {
    if (user !== pg.POSTGRES_USER || password !== pg.POSTGRES_PASSWORD)
      problems.push(`the ${who} credentials are not postgresql's`);
  }
  return problems;
};

const prodSchemasAreCreated: Check = ({ compose }) => {
  const problems: string[] = [];
  const temporal = resolvedEnvironment('temporal', compose.services.temporal, problems);
  const sql = resolvedEnvironment('temporal-admin-tools', compose.services['temporal-admin-tools'], problems);
  if (temporal.DB !== 'postgres12' || sql.SQL_PLUGIN !== 'postgres12')
    problems.push('temporal and the schema setup do not both use the postgres12 plugin');
  const script = commandOf(compose.services['temporal-admin-tools']).join(' ');
  for (const [db, dir] of [
    [temporal.DBNAME, 'temporal'],
    [temporal.VISIBILITY_DBNAME, 'visibility'],
  ] as const) {
    const wanted = `--db ${db} update-schema -d /etc/temporal/schema/postgresql/v12/${dir}/versioned`;
    if (!db || !script.includes(`--db ${db} setup-schema -v 0.0`) || !script.includes(wanted))
      problems.push(`the schema setup does not create and update database ${db ?? '(unnamed)'} from the ${dir} schema`);
  }
  return problems;
};

const prodStartsInOrder: Check = ({ compose }) => {
  const problems: string[] = [];
  const s = compose.services;
  if (condition(s['temporal-admin-tools'], 'postgresql') !== 'service_healthy')
    problems.push('the schema setup does not wait for a healthy postgresql');
  if (condition(s.temporal, 'temporal-admin-tools') !== 'service_completed_successfully')
    problems.push('temporal does not wait for the schema setup to finish');
  if (commandOf(s['codex-bridge-init'])[0] !== 'init') problems.push('codex-bridge-init does not run `init`');
  for (const app of ['worker', 'api']) {
    if (condition(s[app], 'codex-bridge-init') !== 'service_completed_successfully')
      problems.push(`${app} does not wait for codex-bridge-init to finish`);
    if (condition(s[app], 'mongo') !== 'service_healthy') problems.push(`${app} does not wait for a healthy mongo`);
  }
  for (const name of ['postgresql', 'mongo'])
    if (!s[name]?.healthcheck?.test) problems.push(`${name} has no healthcheck`);
  if (!/rs\.initiate\(/.test(JSON.stringify(s.mongo?.healthcheck?.test ?? '')))
    problems.push("mongo's healthcheck does not initiate the replica set");
  return problems;
};

const prodRunsSeveralWorkers: Check = ({ compose }) =>
  (compose.services.worker?.deploy?.replicas ?? 1) >= 2 ? [] : ['the worker runs as a single replica'];

const prodPublishesOnLoopbackOnly: Check = ({ compose }) =>
  Object.entries(compose.services).flatMap(([name, service]) =>
    portMappings(service)
      .filter((m) => m.published !== undefined && m.hostIp !== '127.0.0.1')
      .map((m) => `${name} publishes ${m.target} on ${m.hostIp ?? 'every interface'}`),
  );

const PROD_CHECKS: Record<string, Check> = {
  'postgresql, the admin tools, temporal, the Web UI, mongo, init, worker and api exist': prodServicesExist,
  'every bridge environment key is a known setting and validates with loadConfig': prodEnvironmentIsKnownAndValid,
  'the addresses and credentials point at the services (mongo as a replica set)': prodAddressesReachTheServices,
  'the admin tools create both PostgreSQL schemas the server is configured for': prodSchemasAreCreated,
  'schemas before the server, init before the workers and the API, healthy stores': prodStartsInOrder,
  'the worker runs as several replicas': prodRunsSeveralWorkers,
  'every published port is on 127.0.0.1': prodPublishesOnLoopbackOnly,
  "the API's published port is CODEX_BRIDGE_API_ADDR's port, on 127.0.0.1:8787": apiPortIsPublished,
};

describe('docker-compose.prod.yml', () => {
  const files = readProd();
  test.each(Object.entries(PROD_CHECKS))('%s', (_name, check) => {
    expect(check(files)).toEqual([]);
  });
});

const prodEnv = (files: Files, name: string) => files.compose.services[name]!.environment as Record<string, string>;

const PROD_MUTATIONS: Mutation[] = [
  ['the Web UI removed', prodServicesExist, (f) => delete f.compose.services['temporal-ui']],
  [
    'an unknown variable in init',
    prodEnvironmentIsKnownAndValid,
    (f) => (prodEnv(f, 'codex-bridge-init').TEMPORAL_HOST = 'temporal'),
  ],
  [
    'a worker URI without the replica set',
    prodAddressesReachTheServices,
    (f) => (prodEnv(f, 'worker').MONGODB_URI = 'mongodb://mongo:27017'),
  ],
  [
    'the UI talks to another port',
    prodAddressesReachTheServices,
    (f) => (prodEnv(f, 'temporal-ui').TEMPORAL_ADDRESS = 'temporal:7243'),
  ],
  [
    'temporal with another database password',
    prodAddressesReachTheServices,
    (f) => (prodEnv(f, 'temporal').POSTGRES_PWD = 'other'),
  ],
  [
    'visibility schema not created',
    prodSchemasAreCreated,
    (f) => {
      const service = f.compose.services['temporal-admin-tools']!;
      service.command = (service.command as string[]).map((c) =>
        c.replace(/&&\s*temporal-sql-tool --db temporal_visibility update-schema[^&]*$/, ''),
      );
    },
  ],
  [
    'temporal starts before the schemas exist',
    prodStartsInOrder,
    (f) => (f.compose.services.temporal!.depends_on = ['temporal-admin-tools']),
  ],
  [
    'worker starts before init finished',
    prodStartsInOrder,
    (f) => (f.compose.services.worker!.depends_on = { mongo: { condition: 'service_healthy' } }),
  ],
  ['one worker', prodRunsSeveralWorkers, (f) => delete f.compose.services.worker!.deploy],
  [
    'the UI on every interface',
    prodPublishesOnLoopbackOnly,
    (f) => (f.compose.services['temporal-ui']!.ports = ['8080:8080']),
  ],
];

describe('each production-layout check rejects a file that is wrong in its way', () =>
  expectEachMutationCaught(PROD_MUTATIONS, readProd));
