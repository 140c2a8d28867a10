// Replays committed histories of real runs against today's workflow code: a change that would
// break running workflows fails here. Regenerate on purpose with ./scripts/record-histories.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { WORKFLOWS_PATH } from '../../src/worker';

// histories/ holds today's recordings; each subfolder keeps the recordings of an earlier release
// (before-ask-person: the Codex activity signalled requests and polled for the answer;
// before-lean-round-trips: mirror writes as activities of their own and a search attribute upsert
// on every change; before-codex-task: tasks ran as codexTaskWorkflow, through version gates),
// which tasks started then still need to replay.
const HISTORIES_DIR = path.join(__dirname, 'histories');
const histories = (fs.readdirSync(HISTORIES_DIR, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({
    name: f.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, f), 'utf8'))),
  }));
/** The workflow id each history ran under (the reply is a second run of the success task). */
const workflowIdOf = (name: string) => {
  const scenario = path.basename(name);
  if (scenario === 'reply-turn') return 'history-success';
  // A schedule's run is named `<schedule id>-<time>` (see record-histories.ts).
  if (scenario === 'scheduled-run') return 'history-scheduled-run-2026-11-30T09:00:00Z';
  // The admission workflow is named after the recorder's task queue; its code never reads the id.
  if (scenario === 'admission-workflow') return 'codex-bridge-admission-history';
  return `history-${scenario}`;
};
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

let bundle: WorkflowBundleWithSourceMap;
let alteredBundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  [bundle, alteredBundle] = await Promise.all([
    bundleWorkflowCode({ workflowsPath: require.resolve(WORKFLOWS_PATH), logger: silent }),
    bundleWorkflowCode({ workflowsPath: require.resolve('./altered-workflow'), logger: silent }),
  ]);
});

test('the committed histories cover the scenarios the workflow must keep replaying', () => {
  const scenarios = ['approval', 'cancel', 'no-target', 'notify-retries', 'reply-turn', 'success'];
  const added = ['quota-pause', 'scheduled-run', 'worktree', 'reply-next-turn', 'reply-steered'];
  const now = [...scenarios, ...added];
  const admission = ['admission-queued', 'admission-cancelled', 'admission-workflow'];
  expect(histories.map((h) => h.name).sort()).toEqual(
    [
      ...scenarios.map((s) => `before-ask-person/${s}`),
      ...now.map((s) => `before-lean-round-trips/${s}`),
      ...[...now, ...admission].map((s) => `before-codex-task/${s}`),
      ...now,
      ...admission,
    ].sort(),
  );
});

test.each(histories.map((h) => [h.name, h.history] as const))(
  'history %s replays deterministically',
  async (name, history) => {
    await expect(
      Worker.runReplayHistory({ workflowBundle: bundle, replayName: name }, history, workflowIdOf(name)),
    ).resolves.toBeUndefined();
  },
);

test('the replayer catches a non-deterministic change', async () => {
  const { history } = histories.find((h) => h.name === 'success')!;
  await expect(
    Worker.runReplayHistory({ workflowBundle: alteredBundle }, history, 'history-success'),
  ).rejects.toBeInstanceOf(DeterminismViolationError);
});
