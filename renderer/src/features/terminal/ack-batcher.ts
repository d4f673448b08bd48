/**
 * Backpressure acks, batched: xterm calls back once per written chunk, and a
 * `yes` flood produces thousands of chunks a second. One ack per chunk would
 * flood the transport the other way; instead we sum the rendered bytes and
 * send them when enough piled up or shortly after the last write.
 */
export class AckBatcher {
  private pending = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly send: (bytes: number) => void,
    private readonly flushAtBytes = 64 * 1024,
    private readonly delayMs = 15,
  ) {}

  /** xterm has rendered `bytes` more bytes. */
  add(bytes: number): void {
    if (!(bytes > 0)) return;
    this.pending += bytes;
    if (this.pending >= this.flushAtBytes) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const n = this.pending;
    this.pending = 0;
    if (n > 0) this.send(n);
  }

  /** Stop without sending (the terminal is gone). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = 0;
  }
}
