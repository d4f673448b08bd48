import { DOCKER_FILES } from './docker-files';

/**
 * Files that change something machine-wide another test file relies on while it runs: `sudo.test.ts` puts a
 * NOPASSWD rule for the test user in /etc/sudoers.d/ and takes it back. A file running beside it could find sudo
 * passwordless at its probe and asking for the password at its next command ("sudo now asks for a password; try
 * again"), as a CI run's copy-out test did. They run after everything else, one at a time, with the Docker files.
 */
export const MACHINE_WIDE_FILES = ['test/ssh/sudo.test.ts'];

/** Every file of the second group (run after the rest, one at a time). */
export const ALONE_FILES = [...MACHINE_WIDE_FILES, ...DOCKER_FILES];
