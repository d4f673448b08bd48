/**
 * What moved in a node directory between two listings (the copy-out's check that the engine is not
 * writing it), as data, and each change as one catalog phrase: the CLI and the journal say it in
 * English, the node panel and the guided checklist in the UI's language.
 */
import type { DirectoryChange } from '../contract/ssh';
import type { LocalText } from '../contract/text';
import { LIST_SEPARATOR, translateLocal, type Locale } from '../i18n';

/** How many changes a sentence names before it says "…". */
export const CHANGES_NAMED = 5;

export function directoryChangeText(c: DirectoryChange): LocalText {
  switch (c.kind) {
    case 'resized':
      return { key: 'ssh.copyout.change.resized', params: { path: c.path, from: c.from, to: c.to } };
    case 'written':
      return { key: 'ssh.copyout.change.written', params: { path: c.path, size: c.size } };
    default:
      return { key: `ssh.copyout.change.${c.kind}`, params: { path: c.path } };
  }
}

/** The first CHANGES_NAMED changes as phrases, and "and N more" when there are more: the `files` of 'ssh.copyout.changing'. */
export function directoryChangesText(changes: readonly DirectoryChange[]): LocalText[] {
  const named = changes.slice(0, CHANGES_NAMED).map(directoryChangeText);
  if (changes.length > CHANGES_NAMED) named.push({ key: 'ssh.copyout.change.more', params: { n: changes.length - CHANGES_NAMED } });
  return named;
}

/** Those phrases in `locale`, joined as that language joins a list. */
export function directoryChangesSaid(locale: Locale, changes: readonly DirectoryChange[]): string {
  return directoryChangesText(changes)
    .map((l) => translateLocal(locale, l))
    .join(LIST_SEPARATOR[locale]);
}
