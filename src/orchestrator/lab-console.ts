// Console input for `parallax-orch lab --console`: each line typed on the lab's own stdin is
// typed on one server's serial console, ended with a carriage return (the Enter key of a
// terminal, which is what the DIME kernel's console readers wait for):
//   S2> text    this line goes to S2 only
//   >S2         from now on, plain lines go to S2
//   text        goes to the current server (the first one at start)
// A server name the lab does not have (S9 in a lab of two) is refused with a message and nothing
// is sent; a line that only looks like a prefix ("note> x") is plain text.

export interface LabConsoleSink {
  /** type `text` on server `name`'s console */
  type(name: string, text: string): void;
  /** a message for the person typing (a refused line, a new target) */
  say(message: string): void;
}

/** `S2> text` (to S2 only) or `>S2` (switch); names are the lab's (S1, S2, ...), any case. */
const ONE_LINE = /^\s*([A-Za-z][\w-]*)>\s?(.*)$/s;
const SWITCH = /^\s*>\s*([A-Za-z][\w-]*)\s*$/;
/** how the lab names its servers: a prefix spelled so is meant as one */
const LAB_NAME = /^S\d+$/i;

export class LabConsoleInput {
  private current: string;

  constructor(private readonly names: readonly string[], private readonly sink: LabConsoleSink) {
    if (names.length === 0) throw new Error('a lab console needs at least one server');
    this.current = names[0];
  }

  /** the server plain lines go to */
  get target(): string {
    return this.current;
  }

  /** One typed line, without its line end. */
  line(raw: string): void {
    const text = raw.replace(/\r?\n$/, '');
    const sw = SWITCH.exec(text);
    if (sw) {
      const name = this.known(sw[1]);
      if (name) {
        this.current = name;
        this.sink.say(`console input now goes to ${name}`);
      }
      return;
    }
    const one = ONE_LINE.exec(text);
    if (one && (this.has(one[1]) || LAB_NAME.test(one[1]))) {
      const name = this.known(one[1]);
      if (name) this.sink.type(name, `${one[2]}\r`);
      return;
    }
    this.sink.type(this.current, `${text}\r`);
  }

  private has(name: string): boolean {
    return this.names.some((n) => n.toLowerCase() === name.toLowerCase());
  }

  /** the lab's spelling of a server name, or null (said) when there is no such server */
  private known(name: string): string | null {
    const found = this.names.find((n) => n.toLowerCase() === name.toLowerCase());
    if (!found) this.sink.say(`no server ${name} in this lab (servers: ${this.names.join(', ')}): nothing sent`);
    return found ?? null;
  }
}

/** The one-line help printed when the lab starts reading its console. */
export function labConsoleHint(names: readonly string[]): string {
  const other = names[1] ?? names[0];
  return `console input: '${other}> text' types a line on ${other}'s console, '>${other}' sends later lines there ` +
    `(now: ${names[0]}); end of input (Ctrl-D) stops the lab`;
}
