import {
  buildNotificationMessage,
  formatDuration,
  LIMITS,
  renderPlainText,
  truncate,
} from '../../activities/notify/message';
import { command, completionView, fileChange, requestView, result } from './support/views';

describe('buildNotificationMessage: completion', () => {
  test.each([
    ['completed', '✅ Codex task fix-tests completed'],
    ['failed', '❌ Codex task fix-tests failed'],
    ['cancelled', '🛑 Codex task fix-tests cancelled'],
    ['timed_out', '⏱ Codex task fix-tests timed out'],
  ] as const)('%s has the title %s', (status, title) => {
    const m = buildNotificationMessage(completionView({ status }));
    expect(m.title).toBe(title);
    expect(m.status).toBe(status);
    expect(m.fields.find((f) => f.label === 'Outcome')?.value).toBe(status.replace('_', ' '));
  });

  test('text carries the prompt head, duration, commands with failures, files and the final message', () => {
    const m = buildNotificationMessage(completionView());
    expect(m.text).toContain('Prompt: Fix the failing tests in the range module');
    expect(m.text).toContain('Duration: 3m 12s');
    expect(m.text).toContain('Commands: 2 run, 1 failed');
    expect(m.text).toContain('✗ npm run lint (exit 1)');
    expect(m.text).toContain('Files changed: 2 (src/range.ts, test/range.test.ts)');
    expect(m.text).toContain('Final message:\nAll 42 tests pass now.');
    expect(m.excerpt).toContain('All 42 tests pass now.');
    expect(m.excerpt).not.toContain('Commands:'); // facts are fields on channels that render them
    expect(m.fields.map((f) => f.label)).toEqual([
      'Outcome',
      'Task',
      'Duration',
      'Directory',
      'Commands',
      'Files changed',
    ]);
  });

  test('a failed task shows its error; many files are summarised', () => {
    const files = Array.from({ length: 8 }, (_, i) => fileChange(`src/f${i}.ts`));
    const m = buildNotificationMessage(
      completionView({
        status: 'failed',
        error: { type: 'CodexError', message: 'model refused' },
        result: result({ final_message: null, file_changes: files }),
      }),
    );
    expect(m.text).toContain('Error (CodexError): model refused');
    expect(m.text).toContain('Files changed: 8 (src/f0.ts, src/f1.ts, src/f2.ts, src/f3.ts, src/f4.ts, +3 more)');
    expect(m.text).not.toContain('Final message');
  });

  test('a long final message is truncated with a visible marker counting what was left out', () => {
    const final = 'x'.repeat(5000);
    const m = buildNotificationMessage(completionView({ result: result({ final_message: final }) }));
    const match = /Final message:\n(x+)… \[truncated, (\d+) more characters\]/.exec(m.text);
    expect(match).not.toBeNull();
    const kept = match![1]!.length;
    expect(kept + Number(match![2])).toBe(5000);
    expect(kept).toBeGreaterThan(LIMITS.finalExcerpt - 50);
    expect(m.text.length).toBeLessThanOrEqual(LIMITS.text);
  });

  test('a long multi-line prompt becomes one truncated line', () => {
    const prompt = `first line\nsecond line ${'word '.repeat(100)}`;
    const m = buildNotificationMessage(completionView({ prompt }));
    const line = m.text.split('\n').find((l) => l.startsWith('Prompt: '))!;
    expect(line).toMatch(/^Prompt: first line second line word .*… \[truncated, \d+ more characters\]$/);
    expect(line.length).toBeLessThanOrEqual('Prompt: '.length + LIMITS.promptHead);
  });

  test('secrets are redacted everywhere: prompt, final message, error, commands', () => {
    const m = buildNotificationMessage(
      completionView({
        status: 'failed',
        prompt: 'use OPENAI key sk-abcdefghijklmnopqrstuvwxyz0123 to test',
        error: { type: 'E', message: 'auth failed for ghp_abcdefghijklmnopqrstuvwxyz0123456789' },
        result: result({
          final_message: 'I set AWS key AKIAIOSFODNN7EXAMPLE and DB_PASSWORD=hunter2',
          commands: [command('curl -H "Authorization: Bearer abcdefghijklmnop" https://x', 22)],
        }),
      }),
    );
    const all = JSON.stringify(m);
    for (const secret of [
      'sk-abcdefghijklmnopqrstuvwxyz0123',
      'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      'AKIAIOSFODNN7EXAMPLE',
      'hunter2',
      'abcdefghijklmnop"',
    ]) {
      expect(all).not.toContain(secret);
    }
    expect(m.text).toContain('[redacted]');
  });

  test('a secret straddling the truncation point is redacted before the cut (no prefix leaks)', () => {
    const secret = 'sk-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh';
    // Placed so that cutting first would keep only "sk-ABCDEFGHIJ": too short to look like a key.
    const cutAt = truncate('q'.repeat(5000), LIMITS.finalExcerpt).indexOf('…');
    const final = `${'y'.repeat(cutAt - 14)} ${secret} ${'z'.repeat(3000)}`;
    expect(truncate(final, LIMITS.finalExcerpt)).toContain('sk-ABCDEFGHIJ'); // what the wrong order would leak
    const m = buildNotificationMessage(completionView({ result: result({ final_message: final }) }));
    expect(m.text).not.toContain('sk-ABCDEFGHIJ');
    expect(m.text).toContain('[redacted]');
  });

  test('the Web UI link appears only with uiUrl, for the namespace given', () => {
    expect(buildNotificationMessage(completionView()).url).toBeNull();
    const m = buildNotificationMessage(completionView({ task_id: 'fix tests/1' }), {
      uiUrl: 'http://127.0.0.1:8233/',
      namespace: 'prod',
    });
    expect(m.url).toBe('http://127.0.0.1:8233/namespaces/prod/workflows/fix%20tests%2F1');
    expect(buildNotificationMessage(completionView(), { uiUrl: 'http://ui' }).url).toBe(
      'http://ui/namespaces/default/workflows/fix-tests',
    );
    expect(renderPlainText(m)).toMatch(
      /\n\nOpen in Temporal Web UI: http:\/\/127\.0\.0\.1:8233\/namespaces\/prod\/workflows\/fix%20tests%2F1$/,
    );
  });

  test('a follow-up turn says so in the title', () => {
    expect(buildNotificationMessage(completionView({ turn: 3 })).title).toBe(
      '✅ Codex task fix-tests completed (turn 3)',
    );
  });

  test('is deterministic: a retried activity sends the same message', () => {
    expect(buildNotificationMessage(completionView(), { uiUrl: 'http://ui' })).toEqual(
      buildNotificationMessage(completionView(), { uiUrl: 'http://ui' }),
    );
  });
});

describe('buildNotificationMessage: requests', () => {
  test('an approval says what is asked and how to answer', () => {
    const m = buildNotificationMessage(requestView());
    expect(m.title).toBe('❓ Codex task fix-tests asks to run a command');
    expect(m.text).toContain('Run `rm -rf build` in /work/project');
    expect(m.text).toContain('Command: rm -rf build\nCwd: /work/project');
    expect(m.text).toContain('codex-bridge approve fix-tests req-7 --decision accept');
    expect(m.text).toContain('codex-bridge approve fix-tests req-7 --decision decline');
    expect(m.fields).toContainEqual({ label: 'Request', value: 'req-7' });
    expect(m.excerpt).toContain('--decision accept');
  });

  test('a question tells how to answer with codex-bridge answer', () => {
    const m = buildNotificationMessage(
      requestView({
        request: {
          request_id: 'q1',
          kind: 'user_input',
          summary: 'Which database?',
          details: 'Options: postgres, sqlite',
        },
      }),
    );
    expect(m.title).toBe('❓ Codex task fix-tests has a question for you');
    expect(m.text).toContain('Options: postgres, sqlite');
    expect(m.text).toContain(`codex-bridge answer fix-tests q1 --answers '{"<question id>": "<your answer>"}'`);
    expect(m.text).not.toContain('codex-bridge approve');
  });

  test('a file change request keeps a long diff readable', () => {
    const diff = `Files: src/a.ts\n${'+added line\n'.repeat(500)}`;
    const m = buildNotificationMessage(
      requestView({
        request: { request_id: 'r2', kind: 'file_change_approval', summary: 'Change 1 file', details: diff },
      }),
    );
    expect(m.title).toBe('❓ Codex task fix-tests asks to change files');
    expect(m.text).toMatch(/… \[truncated, \d+ more characters\]/);
    expect(m.text.length).toBeLessThanOrEqual(LIMITS.text);
  });

  test('ids that need quoting are shell-quoted in the answer command', () => {
    const m = buildNotificationMessage(requestView({ task_id: "it's" }));
    expect(m.text).toContain(`codex-bridge approve 'it'\\''s' req-7 --decision accept`);
  });

  test('an expired request says it can no longer be answered', () => {
    const m = buildNotificationMessage(requestView({ kind: 'request_expired' }));
    expect(m.title).toBe('⌛ Codex task fix-tests: request expired');
    expect(m.text).toContain('Request req-7 (Run `rm -rf build` in /work/project) was not answered in time');
    expect(m.text).not.toContain('codex-bridge approve');
  });
});

describe('helpers', () => {
  test('truncate keeps within the limit and reports what it left out', () => {
    expect(truncate('short', 10)).toBe('short');
    const out = truncate('a'.repeat(100), 50);
    expect(out.length).toBeLessThanOrEqual(50);
    const omitted = Number(/truncated, (\d+) more/.exec(out)![1]);
    expect(out.indexOf('…') + omitted).toBe(100);
  });

  test('formatDuration', () => {
    expect(formatDuration('2025-01-01T00:00:00Z', '2025-01-01T00:00:00.850Z')).toBe('850 ms');
    expect(formatDuration('2025-01-01T00:00:00Z', '2025-01-01T00:00:12Z')).toBe('12s');
    expect(formatDuration('2025-01-01T00:00:00Z', '2025-01-01T02:05:00Z')).toBe('2h 5m');
    expect(formatDuration(null, '2025-01-01T00:00:12Z')).toBeNull();
    expect(formatDuration('nonsense', '2025-01-01T00:00:12Z')).toBeNull();
  });
});
