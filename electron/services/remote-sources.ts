/**
 * What validation needs from the SSH side, as types only: the composition
 * root hands the SSH service's implementation to the validation service, so
 * neither imports the other.
 */
import type { DirectorySource } from '../../shared/bytes/byte-source';
import type { CallContext } from './registry';

/** A read-only remote directory; its `name` is what the report shows (`user@host:/path`). */
export type RemoteDirectory = DirectorySource & { close(): Promise<void> };

/** What remote and copy sources need from the SSH side (the SSH service provides it). */
export interface RemoteSources {
  /**
   * Open `path` on a connection the calling client owns; throws ApiError
   * (permission-denied, unknown-connection, …). `sudo`: read it as root
   * through sudo (may ask for the sudo password first).
   */
  openDirectory(connectionId: string, path: string, ctx: CallContext, options?: { sudo?: boolean }): Promise<RemoteDirectory>;
  /** The local directory a finished copy-out job of this client wrote; throws ApiError otherwise. */
  copyOutput(jobId: string, ctx: CallContext): string;
}
