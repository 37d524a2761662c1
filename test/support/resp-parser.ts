/** One command a client sent: its name upper-cased and the arguments after the name. */
export interface ProxiedCommand {
  /** The command name, upper-cased (`'SET'`, `'EVALSHA'`). */
  name: string;
  /** The arguments after the name, byte for byte. */
  args: Buffer[];
}

/** A command completed by a chunk, with the offset in that chunk just past its last byte. */
export interface ParsedCommand {
  command: ProxiedCommand;
  end: number;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Collects one CRLF-terminated RESP line that may span chunks. Partial lines are kept as a list of
 * slices and joined once, so a line split over many chunks costs linear time.
 */
class LineCollector {
  private parts: Buffer[] = [];

  /** The line (without its terminator) and the offset after it, or `undefined` when the chunk ends first. */
  take(chunk: Buffer, from: number): { line: Buffer; next: number } | undefined {
    const newline = chunk.indexOf(LF, from);
    if (newline === -1) {
      this.parts.push(chunk.subarray(from));
      return undefined;
    }
    let line = chunk.subarray(from, newline);
    if (this.parts.length > 0) {
      line = Buffer.concat([...this.parts, line]);
      this.parts = [];
    }
    // Inline commands may end in a bare LF; RESP frames always end in CRLF.
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, -1);
    return { line, next: newline + 1 };
  }
}

function lengthOf(line: Buffer): number | undefined {
  const value = Number(line.toString('latin1', 1));
  return line.length > 1 && Number.isInteger(value) ? value : undefined;
}

/**
 * Splits the client→server byte stream into commands: arrays of bulk strings, or inline commands
 * (`PING\r\n`) as redis-cli and telnet send them. Bulk payloads are gathered as slices and copied
 * once when complete, so megabyte arguments parse in linear time. After a malformed frame it stops
 * parsing for good; Redis closes such a connection anyway.
 */
export class RespRequestParser {
  private readonly line = new LineCollector();
  /** Bulk strings still expected in the current array; 0 between commands. */
  private argsLeft = 0;
  private args: Buffer[] = [];
  /** Payload bytes plus CRLF of the current bulk string still expected; 0 while reading a header line. */
  private bodyLeft = 0;
  private body: Buffer[] = [];
  private broken = false;

  /** Parses `chunk` and returns the commands it completes, in order. */
  push(chunk: Buffer): ParsedCommand[] {
    const parsed: ParsedCommand[] = [];
    let at = 0;
    while (at < chunk.length && !this.broken) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - at);
        this.body.push(chunk.subarray(at, at + take));
        at += take;
        this.bodyLeft -= take;
        if (this.bodyLeft === 0) {
          const payload = Buffer.concat(this.body);
          this.body = [];
          this.args.push(payload.subarray(0, payload.length - 2));
          if (--this.argsLeft === 0) parsed.push({ command: this.complete(), end: at });
        }
        continue;
      }
      const taken = this.line.take(chunk, at);
      if (!taken) break;
      at = taken.next;
      const command = this.header(taken.line);
      if (command) parsed.push({ command, end: at });
    }
    return parsed;
  }

  private header(line: Buffer): ProxiedCommand | undefined {
    if (this.argsLeft > 0) {
      const length = lengthOf(line);
      if (line[0] !== 0x24 /* $ */ || length === undefined || length < 0) this.broken = true;
      else this.bodyLeft = length + 2;
      return undefined;
    }
    if (line[0] === 0x2a /* * */) {
      const count = lengthOf(line);
      if (count === undefined) this.broken = true;
      // Redis silently skips `*0` and `*-1` requests: no command, no reply.
      else if (count > 0) this.argsLeft = count;
      return undefined;
    }
    const words = line.toString('utf8').trim().split(/\s+/).filter((word) => word.length > 0);
    if (words.length === 0) return undefined; // Redis ignores empty inline lines without replying.
    this.args = words.map((word) => Buffer.from(word));
    return this.complete();
  }

  private complete(): ProxiedCommand {
    const [name, ...args] = this.args;
    this.args = [];
    return { name: name.toString('utf8').toUpperCase(), args };
  }
}

/** What a completed value was: a plain reply part, an attribute (RESP3 `|`) or a push (RESP3 `>`). */
type ValueKind = 'value' | 'attribute' | 'push';

/**
 * Counts server→client replies without keeping their contents: it skips bulk payloads by their declared
 * length, so a megabyte reply costs no copies. Understands RESP2 and RESP3. RESP3 pushes at the top
 * level (pub/sub messages, tracking invalidations) are out of band and not counted as replies, and
 * attributes are not counted apart from the value they annotate.
 */
export class RespReplyScanner {
  private readonly line = new LineCollector();
  /** Bulk payload bytes plus CRLF still to skip. */
  private skipLeft = 0;
  /** Elements still expected in each open aggregate, innermost last. */
  private readonly open: Array<{ remaining: number; kind: ValueKind }> = [];
  private broken = false;

  /** Scans `chunk` and returns, for each top-level reply it completes, the offset just past that reply. */
  scan(chunk: Buffer): number[] {
    const ends: number[] = [];
    let at = 0;
    while (at < chunk.length && !this.broken) {
      if (this.skipLeft > 0) {
        const take = Math.min(this.skipLeft, chunk.length - at);
        at += take;
        this.skipLeft -= take;
        if (this.skipLeft === 0 && this.finished('value')) ends.push(at);
        continue;
      }
      const taken = this.line.take(chunk, at);
      if (!taken) break;
      at = taken.next;
      if (this.header(taken.line)) ends.push(at);
    }
    return ends;
  }

  /** Handles one type line; true when it completes a top-level reply. */
  private header(line: Buffer): boolean {
    const type = String.fromCharCode(line[0] ?? 0);
    if ('+-:_,#('.includes(type)) return this.finished('value');
    const length = lengthOf(line);
    if (length === undefined) {
      this.broken = true;
      return false;
    }
    switch (type) {
      case '$': // bulk string
      case '=': // verbatim string
      case '!': // bulk error
        if (length < 0) return this.finished('value');
        this.skipLeft = length + 2;
        return false;
      case '*': // array
      case '~': // set
        return this.begin(length, 'value');
      case '>':
        return this.begin(length, 'push');
      case '%': // map: a key and a value per entry
        return this.begin(length * 2, 'value');
      case '|':
        return this.begin(length * 2, 'attribute');
      default:
        this.broken = true;
        return false;
    }
  }

  private begin(elements: number, kind: ValueKind): boolean {
    // Null (`*-1`) and empty aggregates are complete as soon as they start.
    if (elements <= 0) return this.finished(kind);
    this.open.push({ remaining: elements, kind });
    return false;
  }

  /** Records a completed value and closes the aggregates it completes; true for a top-level reply. */
  private finished(kind: ValueKind): boolean {
    for (;;) {
      // An attribute annotates the value after it and is not an element of its own.
      if (kind === 'attribute') return false;
      const parent = this.open.at(-1);
      if (!parent) return kind !== 'push';
      if (--parent.remaining > 0) return false;
      this.open.pop();
      kind = parent.kind;
    }
  }
}
