/**
 * YAML from a node (go-dqlite's cluster.yaml/info.yaml, later manifests and
 * kubeconfigs) parsed within bounds. The `yaml` package is correct but not
 * defensive: a 15 KB file of self-referencing aliases (`a: &a [*a,*a,…]`)
 * keeps `toJS` busy for minutes, and 40 KB of `- - - …` overflows the stack
 * while composing (with pretty errors on, the process then dies outright).
 *
 * So before the parser runs, one pass over the package's own lexer (a linear
 * state machine, so quoting and block scalars are read exactly as the parser
 * will read them) measures:
 * - size (characters),
 * - nesting: indentation levels plus `-`/`?`/`:` indicators on a line plus
 *   open flow brackets (an upper bound of the real depth, at most one over per level),
 * - collection entries (`-`, `:`, `?`, `,` and flow openers),
 * - aliases (`*name`). go-dqlite never writes one, so the default is none.
 * Only a text within every bound is composed, and only then converted to JS.
 * The estimate cannot be far under the truth either: flow nesting is counted
 * exactly, and block nesting needs indentation, so 64 KiB holds a few hundred
 * block levels at most, far below what overflows the composer's stack.
 *
 *   const r = parseBoundedYaml(text, { intAsBigInt: true });
 *   if (!r.ok) finding(r.problem, r.limit, r.offset, r.detail) else use(r.value)
 */
import { CST, Lexer, parseDocument } from 'yaml';
import { refuse, type Bounded } from './bounds';

export interface YamlBounds {
  /** Longest text accepted (characters). */
  maxBytes: number;
  /** Deepest nesting (estimated from the tokens; see above). */
  maxDepth: number;
  /** Total collection entries. */
  maxItems: number;
  /** Aliases (`*name`) allowed; each is expanded at most once per use. */
  maxAliases: number;
}

export const DEFAULT_YAML_BOUNDS: YamlBounds = { maxBytes: 64 * 1024, maxDepth: 32, maxItems: 4096, maxAliases: 0 };

export interface YamlShape {
  depth: number;
  items: number;
  aliases: number;
}

/** Size, nesting, entries and aliases of a YAML text from its tokens, or the first bound it breaks. Never throws. */
export function scanYaml(text: string, bounds: YamlBounds): Bounded<YamlShape> {
  if (text.length > bounds.maxBytes)
    return refuse('too-large', bounds.maxBytes, bounds.maxBytes, `is ${text.length} characters long, more than the ${bounds.maxBytes} allowed`);
  const indents: number[] = [];
  let flow = 0;
  let deepest = 0;
  let items = 0;
  let aliases = 0;
  let offset = 0;
  let lineStart = true;
  let lineIndent = 0;
  let lineIndicators = 0;
  let lineCounted = false;
  let skipScalarBody = false;
  let blockHeader = false;
  let documents = 0;
  try {
    for (const token of new Lexer().lex(text)) {
      const at = offset;
      // Control tokens (doc-mode, flow-error-end, scalar marker) are not source text.
      const type = CST.tokenType(token);
      const control = token.length === 1 && token.charCodeAt(0) < 0x20 && token !== '\n' && token !== '\t';
      if (!control) offset += token.length;
      if (token === CST.SCALAR) {
        skipScalarBody = true;
        // A block scalar's body starts on its own line with its own indentation: not a structural line.
        if (blockHeader) lineCounted = true;
        blockHeader = false;
        continue;
      }
      if (control) continue;
      if (skipScalarBody) {
        // The scalar's own text (plain, quoted or a block scalar's body): nothing structural inside.
        skipScalarBody = false;
      } else {
        switch (type) {
          case 'newline':
            lineStart = true;
            lineIndent = 0;
            lineIndicators = 0;
            lineCounted = false;
            continue;
          case 'space':
            if (lineStart) lineIndent = token.length;
            lineStart = false;
            continue;
          case 'comment':
            continue;
          case 'block-scalar-header':
            blockHeader = true;
            break;
          case 'alias':
            aliases++;
            if (aliases > bounds.maxAliases) {
              return refuse(
                'aliases',
                bounds.maxAliases,
                at,
                bounds.maxAliases === 0
                  ? `uses a YAML alias (*name at offset ${at}), and none are allowed here`
                  : `uses more than ${bounds.maxAliases} YAML aliases (the one past the limit at offset ${at})`,
              );
            }
            break;
          case 'seq-item-ind':
          case 'explicit-key-ind':
          case 'map-value-ind':
            items++;
            lineIndicators++;
            break;
          case 'comma':
            items++;
            break;
          case 'flow-seq-start':
          case 'flow-map-start':
            items++;
            flow++;
            break;
          case 'flow-seq-end':
          case 'flow-map-end':
            // An unmatched closer is an error the parser reports once per character, slowly: refuse at the first.
            if (flow === 0) return refuse('syntax', null, at, `has an unmatched ${token} at offset ${at}`);
            flow--;
            break;
          case 'doc-start':
          case 'doc-end':
            // One document: at most a leading `---` and a trailing `...`. Thousands of markers cost the parser seconds.
            documents += type === 'doc-start' ? 1 : 100;
            if (documents > 101 || (type === 'doc-start' && documents > 1)) {
              return refuse('syntax', null, at, `holds more than one YAML document (\`${token.trim()}\` at offset ${at})`);
            }
            break;
          default:
            break;
        }
      }
      lineStart = false;
      if (!lineCounted && flow === 0) {
        // First structural token of a block line: its indentation opens or closes block levels.
        lineCounted = true;
        while (indents.length > 0 && indents[indents.length - 1] >= lineIndent) indents.pop();
        indents.push(lineIndent);
      }
      const depth = indents.length + lineIndicators + flow;
      if (depth > deepest) deepest = depth;
      if (depth > bounds.maxDepth) return refuse('too-deep', bounds.maxDepth, at, `nests collections more than ${bounds.maxDepth} deep (at offset ${at})`);
      if (items > bounds.maxItems) return refuse('too-many-items', bounds.maxItems, at, `has more than ${bounds.maxItems} collection entries`);
    }
  } catch (e) {
    return refuse('syntax', null, offset, `could not be read as YAML: ${e instanceof Error ? e.message.split('\n')[0].slice(0, 200) : String(e)}`);
  }
  return { ok: true, value: { depth: deepest, items, aliases } };
}

export interface BoundedYamlOptions {
  bounds?: Partial<YamlBounds>;
  /** Integers as BigInt (u64 ids). */
  intAsBigInt?: boolean;
  /** false: a key given twice is not an error (the last one wins), as the kubelet reads a manifest. */
  uniqueKeys?: boolean;
}

/** The first document of a YAML text as plain JS, or why it was refused. Never throws. */
export function parseBoundedYaml(text: string, options: BoundedYamlOptions = {}): Bounded<unknown> {
  const bounds: YamlBounds = { ...DEFAULT_YAML_BOUNDS, ...options.bounds };
  const scan = scanYaml(text, bounds);
  if (!scan.ok) return scan;
  try {
    // prettyErrors off: building the pretty context is itself costly on hostile input. No stack traces for the
    // parser's own error objects either (thousands of errors in a damaged file each captured one).
    const limit = Error.stackTraceLimit;
    let doc: ReturnType<typeof parseDocument>;
    try {
      Error.stackTraceLimit = 0;
      doc = parseDocument(text, { intAsBigInt: options.intAsBigInt ?? false, uniqueKeys: options.uniqueKeys ?? true, logLevel: 'silent', prettyErrors: false });
    } finally {
      Error.stackTraceLimit = limit;
    }
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      return refuse('syntax', null, e.pos[0], `is not valid YAML: ${e.message.split('\n')[0].slice(0, 200)}`);
    }
    // With aliases allowed, the package's own expansion guard (maxAliasCount 100) stays on as well.
    return { ok: true, value: doc.toJS() as unknown };
  } catch (e) {
    return refuse('syntax', null, null, `is not valid YAML: ${e instanceof Error ? e.message.split('\n')[0].slice(0, 200) : String(e)}`);
  }
}
