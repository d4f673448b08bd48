import { parseClusterYaml, parseInfoYaml } from '../../../shared/formats/dqlite/cluster-yaml';
import { parseBoundedYaml } from '../../../shared/text/bounded-yaml';
import { mutateText } from '../mutate';
import { check, checkPlain, type FuzzTarget } from '../target';
import { sampleFiles } from './corpus';
import { YAML_TOKENS } from './dictionaries';

export const membershipYaml: FuzzTarget<string, string[]> = {
  name: 'yaml',
  what: 'cluster.yaml/info.yaml and the bounded YAML reader: a value or a refusal, never a throw or an alias expansion',
  corpus: () => [...sampleFiles((n) => n.endsWith('.yaml')).map((b) => new TextDecoder().decode(b)), 'a:\n  b: [1, {c: "d"}]\n  e: |\n    text\n'],
  generate: (r, corpus) => mutateText(r, r.pick(corpus), YAML_TOKENS, 80 * 1024),
  run: (text) => {
    const c = parseClusterYaml(text);
    const i = parseInfoYaml(text);
    const g = parseBoundedYaml(text, { bounds: { maxAliases: 4 } });
    for (const r of [c, i]) if (!r.ok) check(typeof r.error === 'string' && r.error.length > 0, 'refusal without words');
    if (!g.ok && g.offset !== null) check(g.offset >= 0 && g.offset <= text.length, `offset ${g.offset} outside ${text.length}`);
    checkPlain([c, i], 'membership');
  },
  files: (t) => ({ 'cluster.yaml': t }),
  size: (t) => t.length,
};
