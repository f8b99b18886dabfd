/** One row of the simulation report. */
export interface StepResult {
  /** What was done, e.g. `installed (signed, RS256)`, `page generalPages/hello-page`. */
  step: string;
  /** The app's HTTP status, if a request was made. */
  status?: number;
  /** How long the request took. */
  ms?: number;
  ok: boolean;
  /** Why the step failed, or a warning when it passed. One line. */
  problem?: string;
}

const STEP_WIDTH = 44;

/** The report as lines: `STEP  HTTP  MS  RESULT`, one row per step, the problem spelled out in full. */
export function formatTable(rows: readonly StepResult[]): string[] {
  const cells = rows.map((row) => [
    clip(row.step, STEP_WIDTH),
    row.status === undefined ? '-' : String(row.status),
    row.ms === undefined ? '-' : String(Math.round(row.ms)),
    row.ok ? (row.problem ? `ok (${row.problem})` : 'ok') : `FAIL: ${row.problem ?? 'failed'}`,
  ]);
  const header = ['STEP', 'HTTP', 'MS', 'RESULT'];
  const widths = [0, 1, 2].map((i) => Math.max(header[i]!.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `${c[0]!.padEnd(widths[0]!)}  ${c[1]!.padStart(widths[1]!)}  ${c[2]!.padStart(widths[2]!)}  ${c[3]}`.trimEnd();
  return [line(header), ...cells.map(line)];
}

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
