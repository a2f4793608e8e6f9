// Summarizes a V8 .cpuprofile: self time by function and by package, for `npm run bench -- --profile`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

const dir = process.argv[2] ?? 'bench/results/profile';
const file = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile')).sort().at(-1);
if (!file) throw new Error(`no .cpuprofile in ${dir}`);
const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { nodes: ProfileNode[] };
const total = profile.nodes.reduce((sum, node) => sum + node.hitCount, 0);
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const node of profile.nodes) {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
  const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + node.hitCount);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where)?.[1] ?? (where.startsWith('node:') ? 'node internals' : where.startsWith('dist/') ? 'kassa' : functionName.startsWith('(') ? functionName : 'other');
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + node.hitCount);
}
const top = (map: Map<string, number>, count: number) =>
  [...map].sort((a, b) => b[1] - a[1]).slice(0, count).map(([key, hits]) => `${((hits / total) * 100).toFixed(1).padStart(5)}%  ${key}`).join('\n');
console.log(`by package:\n${top(byPackage, 15)}\n\nby function:\n${top(byFunction, 25)}`);
