// Sets a namespace up for the bridge: registers it when it does not exist and adds the Keyword
// search attributes through the operator service, as the dev server does from its flags. A real
// cluster starts with neither. Safe to run again and from several processes at once.
import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { TemporalSettings } from '../config';
import { oneLine } from '../contract/text';
import { explainConnectFailure, temporalConnectionOptions } from './temporal-connection';
import { SEARCH_ATTRIBUTES } from './tool-paths';

export interface NamespaceSetup {
  namespace: string;
  /** True when this call registered the namespace. */
  registered: boolean;
  added: string[];
  present: string[];
}

export interface NamespaceSetupOptions {
  /** Retention of closed workflows in a namespace registered here; default 7 days. */
  retentionDays?: number;
  /** How long to wait for a just-registered namespace to become usable; default 60 s. */
  readyTimeoutMs?: number;
  /** Keep trying to reach the server this long (a cluster starting beside us); default: one try. */
  connectWaitMs?: number;
}

const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const codeOf = (error: unknown) => (error as { code?: unknown })?.code;

export async function setUpNamespace(
  connection: Connection,
  namespace: string,
  options: NamespaceSetupOptions = {},
): Promise<NamespaceSetup> {
  const registered = await registerIfMissing(connection, namespace, options.retentionDays ?? 7);
  // A namespace registered a moment ago reaches every service's cache within seconds; until then
  // the operator service answers NOT_FOUND for it.
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    try {
      return { namespace, registered, ...(await addMissingSearchAttributes(connection, namespace)) };
    } catch (error) {
      if (codeOf(error) !== NOT_FOUND || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function registerIfMissing(connection: Connection, namespace: string, retentionDays: number): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return false;
  } catch (error) {
    if (codeOf(error) !== NOT_FOUND) throw error;
  }
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(`${retentionDays}d`),
    });
    return true;
  } catch (error) {
    if (codeOf(error) === ALREADY_EXISTS) return false;
    throw error;
  }
}

async function addMissingSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<{ added: string[]; present: string[] }> {
  const listed = async () =>
    new Set(Object.keys((await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {}));
  const before = await listed();
  const missing = SEARCH_ATTRIBUTES.filter((name) => !before.has(name));
  if (missing.length > 0) {
    try {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
      });
    } catch (error) {
      if (codeOf(error) !== ALREADY_EXISTS) throw error; // another process added them first
    }
    const after = await listed();
    const absent = missing.filter((name) => !after.has(name));
    if (absent.length > 0)
      throw new Error(`the server accepted but did not register ${absent.join(', ')} in namespace ${namespace}`);
  }
  return { added: missing, present: SEARCH_ATTRIBUTES.filter((name) => before.has(name)) };
}

/** "namespace team-a: registered; search attributes added CodexTaskStatus, …; already present: …". */
export function describeNamespaceSetup(setup: NamespaceSetup): string {
  const parts = [
    setup.registered ? 'registered the namespace' : 'namespace exists',
    setup.added.length > 0 ? `added search attributes ${setup.added.join(', ')}` : '',
    setup.present.length > 0 ? `already present: ${setup.present.join(', ')}` : '',
  ].filter(Boolean);
  return `${setup.namespace}: ${parts.join('; ')}`;
}

/** Connects with the configured security, sets the namespace up, and closes; throws one sentence. */
export async function setUpConfiguredNamespace(
  temporalSettings: TemporalSettings,
  options: NamespaceSetupOptions = {},
): Promise<NamespaceSetup> {
  const { Connection } = await import('@temporalio/client');
  let connection: Connection;
  const deadline = Date.now() + (options.connectWaitMs ?? 0);
  for (;;) {
    try {
      connection = await Connection.connect({ ...temporalConnectionOptions(temporalSettings), connectTimeout: 10_000 });
      break;
    } catch (error) {
      if (Date.now() >= deadline)
        throw new Error(`${await explainConnectFailure(temporalSettings, error)}.`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  try {
    return await setUpNamespace(connection, temporalSettings.namespace, options);
  } catch (error) {
    const why = oneLine(String((error as Error)?.message ?? error), 200);
    const denied = codeOf(error) === 7 || codeOf(error) === 16;
    throw new Error(
      denied
        ? `Temporal at ${temporalSettings.address} did not let this client set up namespace ${temporalSettings.namespace} (${why}): ask its operator to register the search attributes ${SEARCH_ATTRIBUTES.join(', ')} (Keyword), or use credentials that may.`
        : `setting up namespace ${temporalSettings.namespace} on ${temporalSettings.address} failed (${why}): check that the server is healthy, and run it again.`,
      { cause: error },
    );
  } finally {
    await connection.close().catch(() => undefined);
  }
}
