/** Titles and descriptions of the bundled samples: the keys resources/samples/index.json names. */
import { defineCatalog } from './types';

export default defineCatalog(
  {
    'sample.healthy.title': 'Healthy single node',
    'sample.healthy.description': 'A MicroK8s-style dqlite node that was stopped cleanly: closed segments, snapshots, metadata. Everything loads.',
    'sample.fieldReport.title': 'Power cut: broken segment (field report)',
    'sample.fieldReport.description':
      'The shape of the MicroK8s report: a closed segment ends in zero fill, an 80-byte .reconfigure segment follows, open segments and snapshots lie beyond it. dqlite refuses to start.',
  },
  {
    'sample.healthy.title': '健康的单节点',
    'sample.healthy.description': '一个正常停止的 MicroK8s 风格 dqlite 节点：closed segment、snapshot、元数据齐全，全部可以加载。',
    'sample.fieldReport.title': '断电：segment 损坏（真实故障报告）',
    'sample.fieldReport.description':
      '与 MicroK8s 故障报告相同的情形：一个 closed segment 末尾是补零，后面跟着 80 字节的 .reconfigure segment，再往后是 open segment 和 snapshot。dqlite 拒绝启动。',
  },
);
