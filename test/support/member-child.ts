/** What the test members that run in a child process share: configuration, IPC and shutdown. */

/** A setting from the environment; throws naming it when it is missing and has no fallback. */
export function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${process.argv[1] ?? 'the member process'} needs ${name}`);
  return value;
}

/** Sends a message to the parent test process. */
export function send(message: unknown): void {
  process.send?.(message);
}

/** A handler's stand-in for I/O: waits between `minMs` and `maxMs`, drawn evenly. */
export function ioTime(minMs: number, maxMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, minMs + Math.floor(Math.random() * (maxMs - minMs + 1))));
}

/** On the parent's 'stop': runs `stop`, reports `{ type: 'stopped' }` and exits. */
export function stopOnRequest(stop: () => Promise<void>): void {
  process.on('message', (message) => {
    if (message !== 'stop') return;
    void stop().then(() => {
      send({ type: 'stopped' });
      process.exit(0);
    });
  });
}
