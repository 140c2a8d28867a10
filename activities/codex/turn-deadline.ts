// The turn timeout. Time spent waiting for a person to answer an approval or a question does not
// count: that wait has its own bound (CODEX_BRIDGE_REQUEST_TIMEOUT, enforced by whoever answers).
export class TurnDeadline {
  private remainingMs: number;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private pauses = 0;
  private done = false;

  constructor(
    timeoutMs: number,
    private readonly onExpire: () => void,
  ) {
    this.remainingMs = timeoutMs;
    this.run();
  }

  /** Stops the clock until the returned function is called (pauses nest). */
  pause(): () => void {
    if (this.pauses++ === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.remainingMs -= Date.now() - this.startedAt;
    }
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      if (--this.pauses === 0) this.run();
    };
  }

  cancel(): void {
    this.done = true;
    clearTimeout(this.timer);
  }

  private run(): void {
    if (this.done) return;
    this.startedAt = Date.now();
    this.timer = setTimeout(
      () => {
        this.done = true;
        this.onExpire();
      },
      Math.max(0, this.remainingMs),
    );
  }
}
