// One MongoDB client that is replaced when it stops finding a server that is there again. Under load
// the driver's server monitor was seen keeping a restarted store's last error ("connection … closed")
// for minutes, failing every operation with a server-selection timeout although the store was back.
// A fresh client discovers the server at once, so after `stuckAfterMs` of nothing but selection
// failures the client is remade; operations in flight on the old one finish or fail on their own.
// A client whose first connection failed is closed for good (every later operation fails with
// "Topology is closed"), so it is remade at once and the operation tried again on the new one.
import {
  MongoClient,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  type Collection,
  type Document,
  type MongoClientOptions,
} from 'mongodb';

export class MongoConnection {
  private client: MongoClient;
  /** When the current run of server-selection failures began; null while operations succeed. */
  private failingSince: number | null = null;

  constructor(
    private readonly uri: string,
    private readonly dbName: string,
    private readonly options: MongoClientOptions,
    private readonly stuckAfterMs = 30_000,
  ) {
    this.client = new MongoClient(uri, options);
  }

  get mongoClient(): MongoClient {
    return this.client;
  }

  collection<T extends Document>(name: string): Collection<T> {
    return this.client.db(this.dbName).collection<T>(name);
  }

  /** Runs `op`, noting whether the server could be selected; once more on a remade client if this one was closed. */
  async run<T>(op: () => Promise<T>, retried = false): Promise<T> {
    const client = this.client;
    try {
      const result = await op();
      this.failingSince = null;
      return result;
    } catch (err) {
      // Failures of a client already replaced say nothing about the current one.
      if (client !== this.client) throw err;
      if (err instanceof MongoTopologyClosedError && !this.closed) {
        this.remake();
        if (!retried) return this.run(op, true);
      } else if (err instanceof MongoServerSelectionError) this.noteSelectionFailure();
      else this.failingSince = null;
      throw err;
    }
  }

  private noteSelectionFailure(): void {
    const now = Date.now();
    this.failingSince ??= now;
    if (now - this.failingSince >= this.stuckAfterMs) this.remake();
  }

  private remake(): void {
    const stale = this.client;
    this.client = new MongoClient(this.uri, this.options);
    this.failingSince = null;
    void stale.close(true).catch(() => undefined);
  }

  private closed = false;

  async close(): Promise<void> {
    this.closed = true;
    await this.client.close();
  }
}
