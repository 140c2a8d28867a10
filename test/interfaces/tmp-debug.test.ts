import { makeTestEnv } from '../support/test-env';
import { createTaskService } from '../../src/client/task-service';
test('dbg', async () => {
  const t = makeTestEnv();
  const a = await createTaskService(t.config);
  await a.service.start({ prompt: 'a', task_id: 'dbg-a', cwd: t.scratch });
  await a.service.list({});
  const b = await createTaskService(t.config);
  try {
    await b.service.start({ prompt: 'b', task_id: 'dbg-b', cwd: t.scratch });
    console.log('second ok');
  } catch (e) { console.log('second failed', e); }
  await b.close(); await a.close();
});
