// Following a task from the terminal, end to end with the REAL codex binary and a scripted model
// that takes its time: `codex-bridge logs -f` prints the turn's events while it runs and exits when
// it ends; `logs` without -f prints what happened; the API streams the same events as server-sent
// events. The delay from the worker seeing an event to the follower printing it is measured and
// printed (speed is reported, not asserted).
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { buildApiServer } from '../../src/api/server';
import type { TaskEvent } from '../../src/contract/task-events';
import { CLI, createE2eHarness, type E2eHarness, type InProcessWorker } from './support/e2e-harness';

let h: E2eHarness;
let worker: InProcessWorker;
let app: FastifyInstance;
let apiUrl: string;

beforeAll(async () => {
  h = await createE2eHarness();
  worker = await h.startWorker();
  app = buildApiServer({ service: h.service });
  apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await worker?.stop();
  await h?.close();
}, 60_000);

/** A turn of about six seconds: the model thinks, runs a two-second command, thinks, answers. */
function slowRoute(name: string) {
  return h.model.route(name, [
    { delayMs: 1500, items: [{ type: 'exec_command', cmd: 'sleep 2; echo built', callId: `call_${name}` }] },
    { delayMs: 1500, items: [{ type: 'message', text: 'Built it.', phase: 'final_answer' }] },
  ]);
}

/** Runs the CLI, recording when each stdout line arrived. */
function follow(
  args: string[],
): Promise<{ code: number | null; lines: { at: number; text: string }[]; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...h.testEnv.env } });
  const lines: { at: number; text: string }[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const text of parts) lines.push({ at: Date.now(), text });
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, lines, stderr })));
}

/** How Codex runs the scripted command (through bash), as the events show it. */
const CMD = "$ /bin/bash -c 'sleep 2; echo built'";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('logs -f prints the events of the running turn as they happen and ends with the turn', async () => {
  const route = slowRoute('follow');
  const { task_id } = await h.service.start({ prompt: `Build it ${route.tag}`, cwd: h.workdir('follow') });
  const followed = follow(['logs', task_id, '-f', '--json']);
  const { code, lines, stderr } = await followed;
  expect(stderr).toBe('');
  expect(code).toBe(0);
  const events = lines.map((l) => ({ ...(JSON.parse(l.text) as TaskEvent), printedAt: l.at }));
  const texts = events.map((e) => e.text);
  expect(texts).toEqual(expect.arrayContaining([CMD, `${CMD} → exit 0`, 'says: Built it.', 'turn completed']));
  expect(texts[texts.length - 1]).toBe('turn completed');
  expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
  // Live, not at the end: the command's start was printed while the command was still running.
  const started = events.find((e) => e.text === CMD)!;
  const finished = events.find((e) => e.text === `${CMD} → exit 0`)!;
  expect(started.printedAt).toBeLessThan(Date.parse(finished.at));
  const delays = events.map((e) => e.printedAt - Date.parse(e.at));
  console.log(
    `logs -f: ${events.length} events, delay from the worker seeing an event to the terminal printing it: median ${median(delays)} ms, max ${Math.max(...delays)} ms`,
  );

  const final = await h.result(task_id);
  expect(final.status).toBe('completed');
  // Afterwards, without -f: the same events, people's format.
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'logs', task_id], {
    env: { ...process.env, ...h.testEnv.env },
    encoding: 'utf8',
  });
  expect(stdout.trim().split('\n')).toHaveLength(events.length);
  expect(stdout.split('\n')).toContainEqual(
    expect.stringMatching(/^\d\d:\d\d:\d\d {2}\$ \/bin\/bash -c 'sleep 2; echo built'$/),
  );
});

test('the API streams the same events as server-sent events, and a task that does not exist is a 404', async () => {
  const route = slowRoute('sse');
  const { task_id } = await h.service.start({ prompt: `Build it ${route.tag}`, cwd: h.workdir('sse') });
  const { status, body, contentType } = await new Promise<{ status: number; body: string; contentType: string }>(
    (resolve, reject) => {
      http
        .get(`${apiUrl}/v1/tasks/${task_id}/events?follow=true`, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          res.on('end', () =>
            resolve({ status: res.statusCode!, body, contentType: String(res.headers['content-type']) }),
          );
        })
        .on('error', reject);
    },
  );
  expect(status).toBe(200);
  expect(contentType).toMatch(/^text\/event-stream/);
  const frames = body.trim().split('\n\n');
  expect(frames[frames.length - 1]).toBe('event: end\ndata: {}');
  const progress = frames
    .filter((f) => f.includes('event: progress'))
    .map((f) => JSON.parse(f.split('\ndata: ')[1]!) as TaskEvent);
  expect(progress.map((e) => e.text)).toEqual(expect.arrayContaining([CMD, 'turn completed']));

  const missing = await new Promise<number>((resolve, reject) => {
    http
      .get(`${apiUrl}/v1/tasks/no-such-task/events`, (res) => {
        res.resume();
        resolve(res.statusCode!);
      })
      .on('error', reject);
  });
  expect(missing).toBe(404);
});
