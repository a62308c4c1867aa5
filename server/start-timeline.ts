// Where a start's time goes: with KUBEFACADE_START_TIMELINE=1 in the environment, each phase of a start
// (CLI loaded, PKI, storage, bootstrap objects, listening, components, nodes Ready) writes one line to
// stderr with the wall time since the process started and the CPU time it has used so far. CPU time is
// what to compare on a shared machine: wall time there mostly measures the neighbours.

const enabled = process.env.KUBEFACADE_START_TIMELINE === '1';

export function startPhase(phase: string): void {
  if (!enabled) return;
  const cpu = process.cpuUsage();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stderr.write(`kubefacade start: ${performance.now().toFixed(1).padStart(8)} ms wall ${cpuMs.toFixed(1).padStart(8)} ms cpu  ${phase}\n`);
}
