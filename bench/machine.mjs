// What the numbers were measured on.
import os from 'node:os';

export function describeMachine(now = new Date()) {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: os.totalmem() / 1024 ** 3,
    node: process.version,
    os: `${os.type()} ${os.release()} (${process.platform}/${process.arch})`,
    date: now.toISOString(),
    loadAverage: os.loadavg(),
  };
}

export function formatMachine(machine, loadAtEnd) {
  const load = (values) => values.map((value) => value.toFixed(2)).join(' / ');
  return [
    `- CPU: ${machine.cpu}, ${machine.cores} cores`,
    `- RAM: ${machine.memoryGb.toFixed(1)} GB`,
    `- Node.js ${machine.node}, ${machine.os}`,
    `- Date: ${machine.date}`,
    `- Load average (1/5/15 min) at start: ${load(machine.loadAverage)}${loadAtEnd ? `; at end: ${load(loadAtEnd)}` : ''}`,
  ].join('\n');
}
