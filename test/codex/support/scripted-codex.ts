// The per-test world of the Codex suites: a scripted model and a Codex environment (own CODEX_HOME and
// work directory) pointed at it, torn down after each test in reverse order together with whatever
// else the test registered.
import { makeCodexEnv, type CodexTestEnv } from '../../support/codex-env';
import { ScriptedModel, type Script } from '../../support/scripted-model';

export interface ScriptedCodexFixture {
  setUp(script: Script, config?: string[]): Promise<{ model: ScriptedModel; env: CodexTestEnv }>;
  onCleanup(...cleanups: (() => Promise<void>)[]): void;
}

/** Call at the top of a test file: registers the afterEach that tears each test's world down. */
export function scriptedCodexFixture(): ScriptedCodexFixture {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    async setUp(script, config) {
      const model = await ScriptedModel.start(script);
      const env = await makeCodexEnv({ modelUrl: model.url, config });
      cleanups.push(
        () => model.close(),
        () => env.cleanup(),
      );
      return { model, env };
    },
    onCleanup(...more) {
      cleanups.push(...more);
    },
  };
}
