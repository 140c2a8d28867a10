// doctor, worker, serve, dev: the commands that run things. Each imports its module on use, so a
// module that fails to load (or is missing from a partial build) breaks only its own command.
import type { Command } from 'commander';
import { parseDuration } from '../config';
import { ValidationError } from '../errors';
import { createLogger } from '../logging';
import { action, cliConfig, openService, withJson, type CommandContext } from './command-kit';
import type { Output, ServiceHandle } from './io';

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

export function registerRuntimeCommands(program: Command, ctx: CommandContext): void {
  withJson(
    program
      .command('doctor')
      .description('check Temporal, the store, the codex binary and notifier credentials; one line each'),
  )
    .addHelpText(
      'after',
      examples('codex-bridge doctor', 'TEMPORAL_ADDRESS=temporal.internal:7233 codex-bridge doctor --json'),
    )
    .action(
      action(ctx, async ({ out }) => {
        const config = cliConfig(ctx.io);
        const { runDoctor, formatDoctorLine } = await import('../doctor');
        const checks = await runDoctor(config);
        out.result({ checks }, checks.map(formatDoctorLine));
        return checks.every((c) => c.ok) ? 0 : 1;
      }),
    );

  withJson(
    program
      .command('init')
      .description(
        'set the namespace up for the bridge: register it if missing, add its search attributes (idempotent)',
      )
      .option(
        '--wait <duration>',
        'keep trying to reach Temporal this long (e.g. 2m), for a server starting beside it',
      ),
  )
    .addHelpText(
      'after',
      examples(
        'codex-bridge init',
        'TEMPORAL_ADDRESS=temporal.internal:7233 TEMPORAL_NAMESPACE=codex codex-bridge init --wait 2m --json',
      ),
    )
    .action(
      action(ctx, async ({ opts, out }) => {
        const config = cliConfig(ctx.io);
        const waitMs = typeof opts.wait === 'string' ? parseDuration(opts.wait) : 0;
        if (waitMs === null)
          throw new ValidationError(`--wait must be a duration such as 90s or 2m, not ${JSON.stringify(opts.wait)}.`);
        const { setUpConfiguredNamespace, describeNamespaceSetup } = await import('../infra/namespace-setup');
        const setup = await setUpConfiguredNamespace(config.temporal, { connectWaitMs: waitMs });
        out.result(setup, describeNamespaceSetup(setup));
      }),
    );

  withJson(
    program.command('worker').description('run a Temporal worker for the codex-bridge task queue (until Ctrl-C)'),
  )
    .addHelpText(
      'after',
      examples(
        'codex-bridge worker',
        'TEMPORAL_ADDRESS=temporal.internal:7233 MONGODB_URI=mongodb://db:27017 codex-bridge worker',
      ),
    )
    .action(
      action(ctx, async ({ out }) => {
        const config = cliConfig(ctx.io);
        const logger = createLogger({
          level: config.logLevel,
          write: (line) => ctx.io.stderr.write(line),
          context: { component: 'worker' },
        });
        const stop = stopSignal(ctx);
        try {
          const { runWorker } = await import('../worker');
          logger.info('worker starting', {
            task_queue: config.temporal.taskQueue,
            namespace: config.temporal.namespace,
            address: config.temporal.address,
          });
          // runWorker serves /metrics itself (bridge + Temporal SDK metrics) when CODEX_BRIDGE_METRICS_ADDR is set.
          await runWorker(config, { signal: stop.signal, logger });
          logger.info('worker stopped');
        } finally {
          stop.dispose();
        }
        out.result({ stopped: true, task_queue: config.temporal.taskQueue }, []);
      }),
    );

  withJson(
    program
      .command('serve')
      .description('run the HTTP API (default 127.0.0.1:8787, CODEX_BRIDGE_API_ADDR) until Ctrl-C'),
  )
    .addHelpText(
      'after',
      examples(
        'CODEX_BRIDGE_API_TOKEN=$(openssl rand -hex 24) codex-bridge serve',
        'curl -H "Authorization: Bearer $CODEX_BRIDGE_API_TOKEN" http://127.0.0.1:8787/v1/tasks',
      ),
    )
    .action(action(ctx, async ({ out }) => serve(ctx, out)));

  withJson(
    program
      .command('dev')
      .description(
        'everything on this machine: Temporal dev server (+ Web UI), MongoDB-compatible store, worker and API (until Ctrl-C)',
      )
      .option('--temporal-port <n>', 'Temporal gRPC port (default 7233)')
      .option('--ui-port <n>', 'Temporal Web UI port (default 8233)')
      .option('--store-port <n>', 'store port (default 27017)')
      .option('--api-addr <host:port>', 'API address (default CODEX_BRIDGE_API_ADDR)')
      .option('--data-dir <dir>', 'where state, logs and the API token live (default .data/)'),
  )
    .addHelpText(
      'after',
      examples('codex-bridge dev', 'codex-bridge dev --temporal-port 17233 --ui-port 18233 --store-port 37017'),
    )
    .action(
      action(ctx, async ({ opts, out }) => {
        const { runDevMain } = await import('../dev/run-dev');
        // The launcher parses and validates its own flags (one definition); we pass them through.
        const argv: string[] = [];
        for (const [flag, key] of [
          ['--temporal-port', 'temporalPort'],
          ['--ui-port', 'uiPort'],
          ['--store-port', 'storePort'],
          ['--api-addr', 'apiAddr'],
          ['--data-dir', 'dataDir'],
        ] as const) {
          if (typeof opts[key] === 'string') argv.push(flag, opts[key] as string);
        }
        const toStderr = (line: string) => void ctx.io.stderr.write(`${line}\n`);
        return runDevMain(argv, {
          env: ctx.io.env,
          out: out.json ? toStderr : (line) => void ctx.io.stdout.write(`${line}\n`),
          err: toStderr,
          // With --json the one document is what is running, printed once everything is up.
          overrides: out.json ? { log: toStderr, onReady: (ready) => out.result(ready, []) } : {},
        });
      }),
    );
}

async function serve(ctx: CommandContext, out: Output): Promise<number> {
  const config = cliConfig(ctx.io);
  const logger = createLogger({
    level: config.logLevel,
    write: (line) => ctx.io.stderr.write(line),
    context: { component: 'api' },
  });
  const stop = stopSignal(ctx);
  try {
    const [{ startApiServer }, { getBridgeMetrics }] = await Promise.all([
      import('../api/server'),
      import('../metrics'),
    ]);
    const handle = await openService(ctx, config);
    try {
      const api = await startApiServer(config, {
        service: handle.service,
        health: healthOf(handle),
        metrics: getBridgeMetrics(),
        logger,
      });
      logger.info('API listening', { url: api.url, auth: config.api.token ? 'bearer' : 'none (loopback)' });
      out.result({ url: api.url }, `codex-bridge API listening on ${api.url} (Ctrl-C stops it)`);
      await stop.stopped;
      await api.close();
      logger.info('API stopped');
      return 0;
    } finally {
      await handle.close();
    }
  } finally {
    stop.dispose();
  }
}

/** /healthz readiness from the service's own probe, when it has one (createTaskService's does). */
function healthOf(handle: ServiceHandle) {
  const probe = (handle.service as { health?: () => Promise<{ temporal: boolean; store: boolean }> }).health;
  if (typeof probe !== 'function') return undefined;
  return async () => {
    const { temporal, store } = await probe.call(handle.service);
    const down = [temporal ? '' : 'Temporal', store ? '' : 'the store'].filter(Boolean);
    return down.length === 0
      ? { ok: true }
      : { ok: false, message: `${down.join(' and ')} ${down.length > 1 ? 'are' : 'is'} unreachable.` };
  };
}

/** Resolves on SIGINT/SIGTERM or when the CLI's deps.signal aborts. */
function stopSignal(ctx: CommandContext): { signal: AbortSignal; stopped: Promise<void>; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const s of signals) process.once(s, onSignal);
  ctx.deps.signal?.addEventListener('abort', onSignal, { once: true });
  if (ctx.deps.signal?.aborted) controller.abort();
  const stopped = new Promise<void>((resolve) =>
    controller.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  return {
    signal: controller.signal,
    stopped,
    dispose: () => {
      for (const s of signals) process.off(s, onSignal);
      ctx.deps.signal?.removeEventListener('abort', onSignal);
    },
  };
}
