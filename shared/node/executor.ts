/**
 * What runs a command on a node: the SSH service in the app and the CLI, a
 * real connection in the tests. Pure types: no Node, no DOM.
 */

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

/** Runs one shell command on the node (through sudo when asked and allowed). */
export interface NodeExecutor {
  /** `signal`: stop waiting for the command (its channel is closed; the result then has no exit code). */
  run(command: string, opts: { sudo: boolean; maxOutputBytes: number; signal?: AbortSignal }): Promise<ExecResult>;
  /**
   * Whether the login user is root: a `sudo: true` command then runs as it is
   * (no sudo), and what is shown must not claim a sudo. Absent: not known (sudo).
   */
  loginIsRoot?(): Promise<boolean>;
}
