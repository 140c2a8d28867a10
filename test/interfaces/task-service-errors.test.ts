// TaskService turns Temporal's failures into the bridge's errors by their type and gRPC code:
// an unknown workflow is NotFound, an unreachable Temporal is Unavailable (503 / exit 1).
import { Client, Connection } from '@temporalio/client';
import { TaskService } from '../../src/client/task-service';
import { NotFoundError, UnavailableError } from '../../src/errors';
import { freePort } from '../../src/infra/free-port';
import type { TaskStore } from '../../src/store/task-store';
import { makeTestEnv } from '../support/test-env';

// Neither case reaches the store.
const noStore = {} as TaskStore;

test('a task Temporal does not know is NotFound', async () => {
  const { config } = makeTestEnv();
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const service = new TaskService({ client: new Client({ connection }), store: noStore, config });
    await expect(service.cancel('no-such-task-here')).rejects.toThrow(
      new NotFoundError('Task no-such-task-here does not exist.'),
    );
  } finally {
    await connection.close();
  }
});

test('a Temporal nobody listens for is Unavailable, naming the address', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const { config } = makeTestEnv({ TEMPORAL_ADDRESS: address });
  // No retry interceptor: the first refusal is the answer.
  const connection = Connection.lazy({ address, interceptors: [] });
  try {
    const service = new TaskService({ client: new Client({ connection }), store: noStore, config });
    const err = await service.cancel('some-task').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(
      new RegExp(`^Temporal at ${address} is unreachable: .*; start it or set TEMPORAL_ADDRESS\\.$`),
    );
  } finally {
    await connection.close();
  }
});
