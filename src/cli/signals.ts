// Stopping long commands cleanly on SIGINT (Ctrl-C) and SIGTERM (what `timeout`, service
// managers and `docker stop` send): the first signal asks the command to stop at its next
// safe point, where it saves (train: a checkpoint; synth: the pairs made so far; sweep: the
// run in progress) and exits with 128 + the signal's number (130 for SIGINT, 143 for
// SIGTERM); a second signal quits at once without saving. Used by train and synth; a
// command polls `requested` between units of work and ends with `exitCode`.
const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof SIGNALS;

export interface StopRequest {
  /** The signal that asked to stop, once one has. */
  readonly requested: StopSignal | undefined;
  /** 128 + the signal's number (0 while none came). */
  readonly exitCode: number;
  /** Removes the handlers (call in a `finally`). */
  dispose(): void;
}

/** Installs the handlers; `saving` says what happens at the safe point, e.g.
 *  'saving a checkpoint after this step'. */
export function onStopSignals(saving: string): StopRequest {
  let requested: StopSignal | undefined;
  const handler = (signal: StopSignal) => {
    if (requested) {
      console.error(`\nnetc: ${signal} again; quitting without saving`);
      process.exit(128 + SIGNALS[signal]);
    }
    requested = signal;
    console.error(`\nnetc: ${signal === 'SIGINT' ? 'interrupt' : 'SIGTERM'}: ${saving} (send it again to quit without saving)`);
  };
  const names = Object.keys(SIGNALS) as StopSignal[];
  for (const name of names) process.on(name, handler);
  return {
    get requested() {
      return requested;
    },
    get exitCode() {
      return requested ? 128 + SIGNALS[requested] : 0;
    },
    dispose: () => names.forEach((name) => process.off(name, handler)),
  };
}
