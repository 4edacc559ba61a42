// Errors the orchestrator raises for things a user can get wrong or a DIME can refuse. Each
// carries an exit code for the CLI, so scripts can tell "bad input" from "the network failed".

/** CLI exit codes: 1 = a DIME refused or failed, 2 = bad input, 3 = no answer (timeout), 4 = the LAN cannot be joined. */
export const EXIT = { OK: 0, REFUSED: 1, USAGE: 2, TIMEOUT: 3, LAN: 4 } as const;

export class OrchestratorError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.REFUSED) {
    super(message);
    this.name = new.target.name; // the subclass's own name ('UsageError', ...)
  }
}

/** Bad command line, target, service file or workflow: nothing was sent. */
export class UsageError extends OrchestratorError { constructor(message: string) { super(message, EXIT.USAGE); } }

/** A DIME (or a whole server) did not answer in time. */
export class TimeoutError extends OrchestratorError { constructor(message: string) { super(message, EXIT.TIMEOUT); } }

/** A DIME answered with a status other than OK. */
export class RefusedError extends OrchestratorError {
  constructor(message: string, readonly status: number) { super(message, EXIT.REFUSED); }
}

/** The LAN itself cannot be joined (no hub, no interface, no permission): nothing was sent. */
export class LanError extends OrchestratorError { constructor(message: string) { super(message, EXIT.LAN); } }
