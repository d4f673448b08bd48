/**
 * How the guided checklist lays out a step's words, and the app any catalog
 * sentence (lib/components/Prose.svelte), so that nothing an operator
 * types or reads off breaks in the wrong place: a command written between
 * backticks in a playbook text wraps only between its words (a flag never
 * split from its dashes, a path never split at a hyphen), and so do the
 * flags and paths written in a sentence; a label before a value
 * ("Changes:", "会修改：") stays on one line. Pure: the Svelte component
 * renders the parts.
 */

/**
 * A piece of a step text: plain words; a flag or a path in a sentence
 * (`word`: never broken at its dashes or slashes); or a command whose words
 * must stay whole (`code`).
 */
export type ProsePart = { kind: 'text'; text: string } | { kind: 'word'; text: string } | { kind: 'code'; words: string[] };

/**
 * A flag (`--initial-cluster-state=existing`, `--cacert/--cert/--key`) or an
 * absolute path written in a sentence, up to a space or the punctuation
 * around it (ASCII or Chinese); not the middle of a word or of a URL.
 */
const FLAG_OR_PATH = /(?<![\w/.:-])(?:--?[A-Za-z]|\/[^\s/])[^\s()（）“”"，。；：、]*/g;

/** Plain text with its flags and paths as `word` parts. */
export function textParts(text: string): ProsePart[] {
  const parts: ProsePart[] = [];
  let at = 0;
  for (const m of text.matchAll(FLAG_OR_PATH)) {
    if (m.index > at) parts.push({ kind: 'text', text: text.slice(at, m.index) });
    parts.push({ kind: 'word', text: m[0] });
    at = m.index + m[0].length;
  }
  if (at < text.length) parts.push({ kind: 'text', text: text.slice(at) });
  return parts;
}

/**
 * `text` split at its backtick pairs: what is between two backticks is a
 * command (or a command-line word), shown without the backticks and wrapped
 * only at its spaces. An unpaired backtick stays as written.
 */
export function proseParts(text: string): ProsePart[] {
  const pieces = text.split('`');
  // An even number of pieces means an odd number of backticks: the last one has no partner.
  const unpaired = pieces.length % 2 === 0 ? pieces.pop() : undefined;
  const parts: ProsePart[] = [];
  pieces.forEach((piece, i) => {
    if (i % 2 === 1) {
      // A quoted word ('/srv/my backend') is one word: its space is not a place to wrap.
      const words = piece.match(/(?:'[^']*'|[^\s'])+|\S+/g) ?? [];
      if (words.length) parts.push({ kind: 'code', words });
    } else if (piece) parts.push(...textParts(piece));
  });
  if (unpaired === undefined) return parts;
  // The unpaired backtick goes back where it was: after the text before it, in one plain part.
  const last = parts[parts.length - 1];
  const tail = textParts(`\`${unpaired}`);
  const first = tail[0];
  if (last?.kind === 'text' && first?.kind === 'text') {
    last.text += first.text;
    tail.shift();
  }
  return [...parts, ...tail];
}

/** Stands in for a sentence's value while it is split around it (a catalog text never contains it). */
const VALUE_MARK = '\u0000';

/**
 * A catalog sentence split around its one value: `render` is called with a
 * marker for the value and the text before and after it comes back, so the
 * label can be kept on one line and the value laid out on its own.
 */
export function aroundValue(render: (marker: string) => string): { before: string; after: string } {
  const text = render(VALUE_MARK);
  const at = text.indexOf(VALUE_MARK);
  if (at < 0) return { before: text, after: '' };
  return { before: text.slice(0, at), after: text.slice(at + VALUE_MARK.length) };
}
