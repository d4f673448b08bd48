/**
 * A command line usage error (bad option, missing argument): \`lifeboat\` prints it with the usage text and exits 2.
 * One base class, so that the CLI's entry can tell one without loading the command that threw it (each command's
 * module is loaded when that command runs, to keep \`lifeboat validate\` quick to start).
 */
export class CliUsageError extends Error {}
