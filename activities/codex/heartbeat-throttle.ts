// Heartbeats for a Codex turn: at once when something a reader cares about changes (process,
// thread, turn, a new item), otherwise at most every intervalMs — and also every intervalMs while
// nothing happens (a long command, a person deciding), so that the heartbeat timeout means "dead".
import type { CodexHeartbeat } from '../../src/contract/codex-turn';

export class HeartbeatThrottle {
  private latest: CodexHeartbeat;
  private lastSent: CodexHeartbeat | null = null;
  private lastSentAt = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly send: (heartbeat: CodexHeartbeat) => void,
    private readonly intervalMs: number,
    initial: CodexHeartbeat,
  ) {
    this.latest = initial;
    this.flush();
    this.timer = setInterval(() => this.flush(), intervalMs);
  }

  update(heartbeat: CodexHeartbeat): void {
    this.latest = heartbeat;
    if (this.isNews(heartbeat) || Date.now() - this.lastSentAt >= this.intervalMs) this.flush();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private flush(): void {
    this.lastSent = this.latest;
    this.lastSentAt = Date.now();
    this.send(this.latest);
  }

  private isNews(next: CodexHeartbeat): boolean {
    const last = this.lastSent;
    return (
      last === null ||
      next.pid !== last.pid ||
      next.threadId !== last.threadId ||
      next.turnId !== last.turnId ||
      next.itemsStarted > last.itemsStarted
    );
  }
}
