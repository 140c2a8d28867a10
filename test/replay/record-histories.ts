// Records the workflow histories that the replay test replays: real runs in the Temporal test
// server (success, notifier retries, cancel, no target, approval, follow-up turn; a usage-limit
// pause, a worktree task and a schedule's run; a reply steered into a running turn, a refused reply
// run as the next turn; a task that waited in the admission queue, one cancelled there, and the
// admission workflow itself), written to histories/. Run ./scripts/record-histories after a workflow change that adds a scenario or
// changes what a run records; first move the current recordings into a subfolder of histories/
// named for the release they come from, so that tasks started on it are still checked.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Context } from '@temporalio/activity';
import { createReplyRelay } from '../../activities/reply-relay';
import { FakeNotifier } from '../support/fake-notifier';
import { askPerson, fakeCodex, runUntilCancelled, turnResult } from '../support/fake-codex';
import { createWorkflowHarness } from '../support/workflow-harness';
import { admissionWorkflowId } from '../../src/contract/admission';

export const HISTORIES_DIR = path.join(__dirname, 'histories');

test('record workflow histories', async () => {
  const h = await createWorkflowHarness();
  const save = async (name: string, taskId: string, runId?: string) => {
    const history = await h.env.client.workflow.getHandle(taskId, runId).fetchHistory();
    fs.writeFileSync(
      path.join(HISTORIES_DIR, `${name}.json`),
      JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n',
    );
  };
  try {
    fs.mkdirSync(HISTORIES_DIR, { recursive: true });
    await h.withWorker(
      {
        notifier: new FakeNotifier().failNext(2, { retryable: true, message: 'HTTP 500' }).notifier,
        runCodexTurn: fakeCodex(async (input) => {
          if (input.prompt === 'cancel me') return runUntilCancelled(input);
          if (input.prompt === 'steer me' || input.prompt === 'refuse my reply') {
            const activity = Context.current();
            const replies = createReplyRelay()(input.taskId, input.turn, activity);
            const reply = await replies.next(activity.cancellationSignal);
            if (reply) await replies.settle(reply.reply_id, input.prompt === 'steer me');
            return turnResult(input);
          }
          if (input.prompt === 'ask me') {
            const a = await askPerson(input, {
              request_id: 'req-1',
              kind: 'command_approval',
              summary: 'Run ls',
              details: '$ ls',
            });
            return turnResult(input, { finalMessage: JSON.stringify(a) });
          }
          return turnResult(input);
        }),
      },
      async () => {
        const retries = await h.service.start({
          prompt: 'retry the notifier',
          cwd: h.workdir,
          notify_target: 'local',
          task_id: 'history-notify-retries',
        });
        await h.result(retries.task_id);
        await save('notify-retries', retries.task_id);

        const success = await h.service.start({
          prompt: 'Investigate the failing tests',
          cwd: h.workdir,
          notify_target: 'feishu:oc_chat1',
          task_id: 'history-success',
        });
        await h.result(success.task_id);
        await save('success', success.task_id);

        const noTarget = await h.service.start({ prompt: 'no target', cwd: h.workdir, task_id: 'history-no-target' });
        await h.result(noTarget.task_id);
        await save('no-target', noTarget.task_id);

        const cancel = await h.service.start({
          prompt: 'cancel me',
          cwd: h.workdir,
          notify_target: 'local',
          task_id: 'history-cancel',
        });
        await h.waitFor(cancel.task_id, (d) => d.status === 'running');
        await h.service.cancel(cancel.task_id);
        await h.result(cancel.task_id);
        await save('cancel', cancel.task_id);

        const ask = await h.service.start({
          prompt: 'ask me',
          cwd: h.workdir,
          notify_target: 'local',
          approval_policy: 'untrusted',
          task_id: 'history-approval',
        });
        await h.waitFor(ask.task_id, (d) => d.status === 'waiting_for_input');
        await h.service.approve(ask.task_id, 'req-1', 'accept');
        await h.result(ask.task_id);
        await save('approval', ask.task_id);

        await h.service.reply(success.task_id, 'now also fix X');
        await h.result(success.task_id);
        await save('reply-turn', success.task_id);

        // A reply steered into the running turn, and one refused that runs as the next turn (the
        // first run continues as new; its history is the one saved).
        const steer = await h.service.start({
          prompt: 'steer me',
          cwd: h.workdir,
          notify_target: 'local',
          task_id: 'history-reply-steered',
        });
        await h.waitFor(steer.task_id, (d) => d.status === 'running');
        await h.service.reply(steer.task_id, 'also this', 'reply-1');
        await h.result(steer.task_id);
        await save('reply-steered', steer.task_id);

        const refuse = await h.service.start({
          prompt: 'refuse my reply',
          cwd: h.workdir,
          notify_target: 'local',
          task_id: 'history-reply-next-turn',
        });
        await h.waitFor(refuse.task_id, (d) => d.status === 'running');
        await h.service.reply(refuse.task_id, 'then this', 'reply-1');
        await h.result(refuse.task_id);
        await save('reply-next-turn', refuse.task_id, refuse.run_id ?? undefined);
      },
    );
  } finally {
    await h.close();
  }
});

test('record the usage-limit, worktree and scheduled-run histories', async () => {
  const h = await createWorkflowHarness({
    CODEX_BRIDGE_WORKTREE_ROOT: path.join(os.tmpdir(), `history-worktrees-${process.pid}`),
  });
  const save = async (name: string, workflowId: string) => {
    const history = await h.env.client.workflow.getHandle(workflowId).fetchHistory();
    fs.writeFileSync(
      path.join(HISTORIES_DIR, `${name}.json`),
      JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n',
    );
  };
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', h.workdir, '-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args]);
  git('init', '-q');
  fs.writeFileSync(path.join(h.workdir, 'README.md'), 'hello\n');
  git('add', 'README.md');
  git('commit', '-qm', 'init');
  let limited = 0;
  try {
    await h.withWorker(
      {
        notifier: new FakeNotifier().notifier,
        runCodexTurn: fakeCodex(async (input) => {
          if (input.prompt === 'hit the limit' && limited++ === 0) {
            const resetsAt = new Date((await h.env.currentTimeMs()) + 2 * 60 * 60_000).toISOString();
            return turnResult(input, {
              status: 'failed',
              finalMessage: null,
              error: { type: 'usageLimitExceeded', message: 'Usage limit reached' },
              quota_resets_at: resetsAt,
            });
          }
          if (input.prompt === 'change a file') fs.writeFileSync(path.join(input.cwd, 'changed.txt'), 'x\n');
          return turnResult(input);
        }),
      },
      async () => {
        const quota = await h.service.start({
          prompt: 'hit the limit',
          cwd: h.workdir,
          notify_target: 'local',
          task_id: 'history-quota-pause',
        });
        await h.result(quota.task_id);
        await save('quota-pause', quota.task_id);

        const worktree = await h.service.start({
          prompt: 'change a file',
          cwd: h.workdir,
          notify_target: 'local',
          isolation: 'worktree',
          task_id: 'history-worktree',
        });
        await h.result(worktree.task_id);
        await save('worktree', worktree.task_id);

        const run = await h.env.client.workflow.start('scheduledTaskWorkflow', {
          taskQueue: h.config.temporal.taskQueue,
          workflowId: SCHEDULED_RUN_ID,
          args: [
            {
              schedule_id: 'history',
              task: {
                prompt: 'scheduled',
                cwd: h.workdir,
                model: null,
                sandbox: 'workspace-write',
                approval_policy: 'never',
                notify_target: 'local',
                isolation: 'none',
              },
              workflow: {
                turn_timeout_ms: 3_600_000,
                request_timeout_ms: 86_400_000,
                server_request_policy: 'decline',
              },
            },
          ],
        });
        await run.result();
        await save('scheduled-run', SCHEDULED_RUN_ID);
      },
    );
  } finally {
    await h.close();
  }
});

test('record the admission histories', async () => {
  // Limits 2 per queue and 1 per repository: the second and third task on the repository queue.
  const h = await createWorkflowHarness({
    CODEX_BRIDGE_ADMISSION: 'on',
    CODEX_BRIDGE_MAX_RUNNING: '2',
    CODEX_BRIDGE_MAX_PER_REPOSITORY: '1',
    CODEX_BRIDGE_MAX_PER_TARGET: '0',
  });
  const save = async (name: string, workflowId: string) => {
    const history = await h.env.client.workflow.getHandle(workflowId).fetchHistory();
    fs.writeFileSync(
      path.join(HISTORIES_DIR, `${name}.json`),
      JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n',
    );
  };
  let holderMayEnd = false;
  try {
    await h.withWorker(
      {
        notifier: new FakeNotifier().notifier,
        runCodexTurn: fakeCodex(async (input) => {
          const activity = Context.current();
          while (input.taskId === 'history-admission-holder' && !holderMayEnd) {
            activity.heartbeat();
            await new Promise((r) => setTimeout(r, 50));
          }
          return turnResult(input);
        }),
      },
      async () => {
        const start = (task_id: string) =>
          h.service.start({ prompt: task_id, cwd: h.workdir, notify_target: 'local', task_id });
        await start('history-admission-holder');
        await h.waitFor('history-admission-holder', (d) => d.status === 'running');
        await start('history-admission-queued');
        await h.waitFor('history-admission-queued', (d) => d.status === 'queued' && d.queue_position === 0);
        await start('history-admission-cancelled');
        await h.waitFor('history-admission-cancelled', (d) => d.status === 'queued' && d.queue_position === 1);
        await h.service.cancel('history-admission-cancelled');
        await h.waitFor('history-admission-cancelled', (d) => d.notification_status === 'sent');
        holderMayEnd = true;
        await h.waitFor('history-admission-queued', (d) => d.notification_status === 'sent');
        const admission = h.env.client.workflow.getHandle(admissionWorkflowId(h.config.temporal.taskQueue));
        await admission.result();
        await save('admission-queued', 'history-admission-queued');
        await save('admission-cancelled', 'history-admission-cancelled');
        await save('admission-workflow', admission.workflowId);
      },
    );
  } finally {
    await h.close();
  }
});

/** A schedule's run is named `<schedule id>-<time>`; its task is that name without colons. */
export const SCHEDULED_RUN_ID = 'history-scheduled-run-2026-11-30T09:00:00Z';
