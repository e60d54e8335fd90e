// Errors meant for the user: the CLI prints the message (no stack trace) and exits 1.
// Source-text errors are Diagnostics (src/compiler/diagnostics.ts); everything else
// (images, checkpoints, data folders) is a UserError that names the path and the problem.
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
