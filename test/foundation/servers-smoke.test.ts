// The servers the global setup started are the real ones: a Temporal frontend that knows the
// bridge's search attributes, and a MongoDB-wire store the official driver reads and writes.
import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { makeTestEnv } from '../support/test-env';

const { config } = makeTestEnv();

test('a Temporal client connects and the three Keyword search attributes are registered', async () => {
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    const res = await connection.operatorService.listSearchAttributes({ namespace: config.temporal.namespace });
    const custom = res.customAttributes ?? {};
    for (const key of ['CodexTaskStatus', 'NotificationStatus', 'NotifyTarget']) {
      expect(custom[key]).toBeDefined();
    }
  } finally {
    await connection.close();
  }
});

test('the MongoDB driver writes to and reads from the store', async () => {
  const client = await MongoClient.connect(config.mongo.uri, { serverSelectionTimeoutMS: 5000 });
  try {
    const tasks = client.db(config.mongo.db).collection<{ _id: string; n: number }>('smoke');
    await tasks.insertOne({ _id: 'a', n: 1 });
    await tasks.updateOne({ _id: 'a' }, { $inc: { n: 1 } });
    expect(await tasks.findOne({ _id: 'a' })).toEqual({ _id: 'a', n: 2 });
  } finally {
    await client.close();
  }
});
