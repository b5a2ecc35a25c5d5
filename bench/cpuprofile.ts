/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time per function, and per file.
 *
 * Usage:
 *   node --cpu-prof --cpu-prof-dir=prof build/bench/throughput.js 3 1 1000000 perCommand
 *   node build/bench/cpuprofile.js prof/*.cpuprofile [top=30]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function where(url: string, line: number): string {
  if (url === '') return '';
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const rel = path.relative(process.cwd(), file);
  return `${rel.startsWith('..') ? file : rel}:${line + 1}`;
}

function summarise(file: string, top: number): void {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  // Sample i lasts until sample i + 1 (timeDeltas[i + 1]); the last one until the profile's end.
  const selfById = new Map<number, number>();
  let t = profile.startTime;
  const times: number[] = [];
  for (const d of profile.timeDeltas) times.push((t += d));
  for (let i = 0; i < profile.samples.length; i++) {
    const dur = (i + 1 < times.length ? times[i + 1]! : profile.endTime) - times[i]!;
    const id = profile.samples[i]!;
    selfById.set(id, (selfById.get(id) ?? 0) + Math.max(0, dur));
  }
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfById) {
    const f = byId.get(id)!.callFrame;
    const name = f.functionName === '' ? '(anonymous)' : f.functionName;
    const loc = where(f.url, f.lineNumber);
    const key = loc === '' ? name : `${name}  ${loc}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const fileKey = f.url === '' ? name : where(f.url, 0).replace(/:1$/, '');
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
    total += us;
  }
  const print = (title: string, m: Map<string, number>, n: number): void => {
    console.log(title);
    console.log('   self ms   self %  function');
    for (const [key, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(`${(us / 1000).toFixed(1).padStart(10)}  ${((100 * us) / total).toFixed(1).padStart(6)} %  ${key}`);
    }
  };
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
  print('\nSelf time by function', byFunction, top);
  print('\nSelf time by file', byFile, 15);
  console.log('');
}

function main(): void {
  const args = process.argv.slice(2);
  const last = args[args.length - 1];
  const top = last !== undefined && /^\d+$/.test(last) ? Number(args.pop()) : 30;
  if (args.length === 0) throw new Error('usage: node build/bench/cpuprofile.js <file.cpuprofile>... [top]');
  for (const file of args) summarise(file, top);
}

main();
