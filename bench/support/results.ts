import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const resultsFile = path.join(__dirname, '..', 'RESULTS.md');

/**
 * Replaces the `## <name>` section of bench/RESULTS.md (up to the next `## ` heading), or
 * appends it, leaving every other bench's section as it was (as bench/decide.ts does).
 */
export function writeResultsSection(name: string, section: string, file = resultsFile): void {
  const heading = `## ${name}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const lines = current.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  let next: string;
  if (start === -1) {
    next = `${current.replace(/\n*$/, '\n\n')}${section}`;
  } else {
    let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
    if (end === -1) end = lines.length;
    const tail = lines.slice(end).join('\n');
    next = [...lines.slice(0, start), section.replace(/\n*$/, ''), ...(tail ? ['', tail] : [''])].join('\n');
  }
  writeFileSync(file, next.endsWith('\n') ? next : `${next}\n`);
}

export interface MachineInfo {
  nproc: number;
  cpu: string;
  node: string;
  /** 1-minute load average when the bench started: other work on a shared machine. */
  loadAverage: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism?.() ?? cpus.length,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

export function machineLine(m: MachineInfo): string {
  return `${m.nproc} CPUs (${m.cpu}), Node ${m.node}, load average ${m.loadAverage} at start`;
}

/** One result as one JSON line on stdout. */
export function emit(bench: string, result: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench, result, ...fields }));
}

export const passFail = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
