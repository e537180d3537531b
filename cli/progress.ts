/** A one-line progress bar on stderr, shown only when stderr is a terminal. */
export class ProgressBar {
  private readonly enabled: boolean;
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = Boolean(stream.isTTY);
  }

  update(done: number, total: number, detail = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (done < total && now - this.lastDraw < 80) return;
    this.lastDraw = now;
    const width = 28;
    const filled = total > 0 ? Math.round((done / total) * width) : 0;
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    this.stream.write(`\r${this.label} [${bar}] ${done}/${total} ${detail}`.padEnd(this.stream.columns ?? 80));
  }

  finish(): void {
    if (this.enabled) this.stream.write('\n');
  }
}
