// The readable report: one block per scenario, ✓/✗ per expectation with what was expected and what came,
// then a summary line. Plain text (no colours) so it reads the same in a terminal, a CI log and a test message.
import type { ScenarioResult } from './runner.js';
import { formatDuration } from '../lib/time.js';

export function formatResult(r: ScenarioResult): string {
  const out: string[] = [];
  out.push(`▶ ${r.name}${r.file ? `  (${r.file})` : ''}`);
  if (r.status === 'skipped') {
    out.push(`  – skipped, pending: ${r.pending}`);
    if (r.notifications) out.push(`  – notifications (${r.notifications.count}): ${r.notifications.reason}`);
    out.push('  SKIPPED');
    return out.join('\n');
  }
  const s = r.stats;
  out.push(
    `  ${s.messages} message${s.messages === 1 ? '' : 's'}, ${s.clockSteps} clock step${s.clockSteps === 1 ? '' : 's'}, ` +
      `${formatDuration(s.virtualMs)} of virtual time in ${(s.wallMs / 1000).toFixed(2)} s; ${r.alerts.length} alert${r.alerts.length === 1 ? '' : 's'} came`,
  );
  for (const c of r.checks) {
    const at = c.when === 'end' ? '' : `[at ${c.when}] `;
    const where = c.line ? ` (line ${c.line})` : '';
    if (c.ok) {
      out.push(`  ✓ ${at}${c.expected}`);
      c.came.forEach((line, i) => out.push(`      ${i === 0 ? 'came:' : '     '} ${line}`));
    } else {
      out.push(`  ✗ ${at}${c.title}${where}`);
      out.push(`      expected: ${c.type === 'no-alert' ? `${c.expected}, but some came` : c.expected}`);
      c.came.forEach((line, i) => out.push(`      ${i === 0 ? 'came:    ' : '         '} ${line}`));
    }
    if (c.note) out.push(`      (${c.note})`);
  }
  if (r.notifications) out.push(`  – notifications (${r.notifications.count}): ${r.notifications.reason}`);
  if (r.status === 'error') out.push(`  ✗ error: ${r.error}`);
  const failed = r.checks.filter((c) => !c.ok).length;
  out.push(
    r.status === 'passed'
      ? `  PASSED (${r.checks.length} expectation${r.checks.length === 1 ? '' : 's'})`
      : r.status === 'error'
        ? '  ERROR'
        : `  FAILED (${failed} of ${r.checks.length} expectation${r.checks.length === 1 ? '' : 's'} not met)`,
  );
  return out.join('\n');
}

export function formatSummary(results: ScenarioResult[]): string {
  const n = (st: ScenarioResult['status']) => results.filter((r) => r.status === st).length;
  const parts = [`${n('passed')} passed`, `${n('failed')} failed`, `${n('skipped')} skipped (pending)`];
  if (n('error')) parts.push(`${n('error')} errored`);
  return `scenarios: ${parts.join(', ')} — ${results.length} in all`;
}
