/** What the demo verifies, printed as it goes; `assertAllPassed` fails the demo if any did not hold. */
export class DemoChecks {
  private readonly failed: string[] = [];

  /** Records whether `actual` equals `expected`, and prints the outcome. */
  expect(name: string, actual: number, expected: number): void {
    const ok = actual === expected;
    if (!ok) this.failed.push(`${name}: ${actual}, expected ${expected}`);
    console.log(`  ${ok ? '✓' : '✗'} ${name.padEnd(62)} ${actual}${ok ? '' : `   (expected ${expected})`}`);
  }

  assertAllPassed(): void {
    if (this.failed.length > 0) throw new Error(`${this.failed.length} check(s) failed:\n  ${this.failed.join('\n  ')}`);
  }
}
