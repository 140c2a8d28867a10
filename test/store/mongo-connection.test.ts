// The store's client is remade when it can no longer reach a store that is there: after a run of
// server-selection failures longer than the bound, and at once when its first connection failed
// (the driver then closes it for good).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MongoServerSelectionError } from 'mongodb';
import { startFerretDb, type RunningStore } from '../../src/infra/ferretdb-server';
import { freePort } from '../../src/infra/free-port';
import { MongoConnection } from '../../src/store/mongo-connection';

let scratch: string;
let server: RunningStore | undefined;
const connections: MongoConnection[] = [];

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'store-conn-'));
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await server?.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

function connect(port: number, stuckAfterMs: number): MongoConnection {
  const connection = new MongoConnection(
    `mongodb://127.0.0.1:${port}`,
    'conn_test',
    { serverSelectionTimeoutMS: 200, connectTimeoutMS: 200 },
    stuckAfterMs,
  );
  connections.push(connection);
  return connection;
}

const ping = (c: MongoConnection) => c.run(() => c.mongoClient.db('admin').command({ ping: 1 }));

test('a client whose first connection failed is remade and reaches the store once it is up', async () => {
  const port = await freePort();
  const connection = connect(port, 60_000);
  const first = connection.mongoClient;
  await expect(ping(connection)).rejects.toBeInstanceOf(MongoServerSelectionError);
  // The driver closed that client; the next operation remakes it (and fails only because nothing listens).
  await expect(ping(connection)).rejects.toBeInstanceOf(MongoServerSelectionError);
  expect(connection.mongoClient).not.toBe(first);

  server = await startFerretDb({ port, dataDir: path.join(scratch, 'first') });
  await expect(ping(connection)).resolves.toMatchObject({ ok: 1 });
  await server.stop();
  server = undefined;
});

test('selection failures longer than the bound remake a connected client; shorter runs keep it', async () => {
  const port = await freePort();
  server = await startFerretDb({ port, dataDir: path.join(scratch, 'second') });
  const connection = connect(port, 1000);
  await expect(ping(connection)).resolves.toMatchObject({ ok: 1 });
  const connected = connection.mongoClient;

  await server.stop();
  await expect(ping(connection)).rejects.toBeInstanceOf(Error);
  expect(connection.mongoClient).toBe(connected);
  const until = Date.now() + 1500;
  while (Date.now() < until) await ping(connection).catch(() => undefined);
  expect(connection.mongoClient).not.toBe(connected);

  server = await startFerretDb({ port, dataDir: path.join(scratch, 'second') });
  await connection.run(() => connection.collection<{ _id: string }>('t').insertOne({ _id: 'a' }));
  expect(await connection.collection<{ _id: string }>('t').countDocuments()).toBe(1);
});
