/**
 * Files that start their own dockerd. Docker adds and removes bridges and veths
 * as it starts, creates networks and runs containers, and Chromium on this
 * host takes each address change as "network changed": it aborts whatever it
 * is loading at that moment (`net::ERR_NETWORK_CHANGED`), even from
 * 127.0.0.1. So these files run after everything else, one at a time, and no
 * other file's browser is open while Docker changes the host's network.
 */
export const DOCKER_FILES = [
  'test/guided/detect-kind-docker.test.ts',
  'test/guided/detect-kind-statefulset.test.ts',
  'test/guided/session-kind-docker.test.ts',
  'test/e2e/local-kind-docker.test.ts',
  'test/e2e/guided-kind-docker.test.ts',
];
