// The findings view: verdict, symptoms and ranked hypotheses of a triage findings document
// (the findings contract, schema_version 1). Pure rendering: the server computed everything.
import { CommandIDs, commands } from './app';
import { button, h } from './dom';
import { fmtNumber, fmtTime } from './format';
import { IFindings, IHypothesis, ISymptom } from './types';

/** `model_version=1.6.0, segment=region=EU` (as `Finding.culprit()` writes it). */
export function culprit(subject: { [k: string]: any } | null | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(subject || {})) {
    if (v === null || v === undefined) {
      continue;
    }
    const text = typeof v === 'object' ? Object.values(v).join('=') : String(v);
    parts.push(`${k}=${text}`);
  }
  return parts.join(', ') || '—';
}

/** What is wrong with a document that is not findings (null when it looks like findings). */
export function findingsProblem(data: any): string | null {
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    return 'expected a JSON object (a findings document written by `workbench triage --json`)';
  }
  const missing = ['verdict', 'hypotheses', 'window'].filter(k => !(k in data));
  if (missing.length) {
    return `not a findings document: missing ${missing.join(', ')} (see docs/findings.md)`;
  }
  if (data.schema_version !== undefined && data.schema_version !== 1) {
    return `findings schema_version ${data.schema_version} is not supported by this extension (expected 1)`;
  }
  return null;
}

function scoreBar(score: number, threshold: number): HTMLElement {
  const pct = Math.max(0, Math.min(1, score)) * 100;
  return h(
    'span',
    { class: 'wb-score', title: `score ${score.toFixed(2)} (decision threshold ${threshold.toFixed(2)})` },
    h(
      'span',
      { class: 'wb-score-track' },
      h('span', {
        class: `wb-score-fill${score >= threshold ? ' wb-mod-above' : ''}`,
        style: `width: ${pct.toFixed(1)}%`
      }),
      h('span', { class: 'wb-score-threshold', style: `left: ${(threshold * 100).toFixed(1)}%` })
    ),
    h('span', { class: 'wb-score-value' }, score.toFixed(2))
  );
}

/** Affected requests, their share and the quality drop (the report's headline says the same). */
function impactRows(f: IFindings): [string, string][] {
  const imp = f.impact;
  if (!imp) {
    return [];
  }
  const share = imp.share === null || imp.share === undefined ? '' : ` (${(imp.share * 100).toFixed(1)}% of traffic since onset)`;
  const days = imp.hours >= 48 ? `${(imp.hours / 24).toFixed(1)} days` : `${imp.hours.toFixed(1)} h`;
  const rows: [string, string][] = [['affected', `${imp.requests.toLocaleString('en-US')} requests${share}, over ${days}`]];
  const q = imp.quality;
  if (q && q.baseline !== null && q.current !== null) {
    const iv = q.interval ? ` (95% ${q.interval[0].toPrecision(3)}–${q.interval[1].toPrecision(3)})` : '';
    rows.push(['quality', `${q.sli} ${q.baseline.toPrecision(3)} → ${q.current.toPrecision(3)}${iv}`]);
  }
  return rows;
}

function verdict(f: IFindings, threshold: number): HTMLElement {
  const v = f.verdict;
  const top: IHypothesis | undefined = v.cause !== 'none' ? f.hypotheses[0] : undefined;
  const rows: [string, string][] = top
    ? [
        ['culprit', culprit(top.subject)],
        ['onset', fmtTime(top.onset)],
        ['score', `${top.score.toFixed(2)} (threshold ${threshold.toFixed(2)})`],
        ...impactRows(f)
      ]
    : [['', `no hypothesis reached ${threshold.toFixed(2)}${v.incomplete ? ' among those that ran' : ''}`]];
  return h(
    'section',
    { class: `wb-verdict${top ? '' : ' wb-mod-none'}`, 'data-cause': v.cause },
    h('div', { class: 'wb-verdict-label' }, 'Verdict'),
    h('div', { class: 'wb-verdict-cause' }, v.cause),
    h(
      'dl',
      { class: 'wb-verdict-facts' },
      rows.map(([k, val]) => [k ? h('dt', {}, k) : null, h('dd', { class: `wb-verdict-${k || 'note'}` }, val)])
    ),
    top && top.summary ? h('p', { class: 'wb-verdict-summary' }, top.summary) : null
  );
}

function incomplete(f: IFindings): HTMLElement | null {
  const errors = f.meta?.errors || [];
  if (!errors.length && !f.verdict.incomplete) {
    return null;
  }
  return h(
    'section',
    { class: 'wb-incomplete', role: 'alert' },
    h(
      'strong',
      {},
      f.verdict.incomplete || `incomplete: ${errors.length} hypotheses failed`,
      ' — their causes were not tested, so the verdict covers only the others.'
    ),
    h(
      'ul',
      {},
      errors.map(e => h('li', {}, h('code', {}, String(e.hypothesis ?? '?')), ': ', String(e.error ?? e.message ?? '')))
    )
  );
}

function symptoms(list: ISymptom[]): HTMLElement | null {
  const breached = list.filter(s => s.breached);
  if (!breached.length) {
    return list.length ? h('p', { class: 'wb-symptoms wb-mod-ok' }, 'No SLI breached its SLO in the window.') : null;
  }
  return h(
    'section',
    { class: 'wb-symptoms' },
    h('h3', {}, 'Breached'),
    h(
      'table',
      { class: 'wb-table' },
      h('thead', {}, h('tr', {}, ['SLI', 'baseline', 'window', 'SLO'].map(t => h('th', {}, t)))),
      h(
        'tbody',
        {},
        breached.map(s =>
          h(
            'tr',
            { class: 'wb-symptom', 'data-sli': s.sli },
            h('td', {}, s.sli),
            h('td', {}, fmtNumber(s.baseline)),
            h('td', { class: 'wb-mod-bad' }, fmtNumber(s.current)),
            h('td', {}, fmtNumber(s.slo))
          )
        )
      )
    )
  );
}

function hypothesis(hy: IHypothesis, rank: number, threshold: number, open: boolean): HTMLElement {
  const evidence = hy.evidence || [];
  const lineage = hy.lineage || [];
  const steps = hy.next_steps || [];
  return h(
    'details',
    { class: 'wb-hypothesis', 'data-cause': hy.cause, open },
    h(
      'summary',
      {},
      h('span', { class: 'wb-rank' }, `${rank}`),
      h('span', { class: 'wb-cause' }, hy.cause),
      scoreBar(hy.score, threshold),
      h('span', { class: 'wb-culprit' }, culprit(hy.subject)),
      h('span', { class: 'wb-onset' }, hy.onset ? `onset ${fmtTime(hy.onset)}` : '')
    ),
    h(
      'div',
      { class: 'wb-hypothesis-body' },
      hy.summary ? h('p', { class: 'wb-summary' }, hy.summary) : null,
      hy.explains !== null && hy.explains !== undefined
        ? h('p', {}, `explains ${(hy.explains * 100).toFixed(0)}% of the drop`)
        : null,
      evidence.length
        ? h(
            'div',
            { class: 'wb-evidence' },
            h('h4', {}, 'Evidence'),
            h(
              'table',
              { class: 'wb-table' },
              h('thead', {}, h('tr', {}, ['check', 'statistic', 'baseline', 'p-value', 'detail'].map(t => h('th', {}, t)))),
              h(
                'tbody',
                {},
                evidence.map(e =>
                  h(
                    'tr',
                    {},
                    h('td', {}, h('code', {}, e.check)),
                    h('td', {}, fmtNumber(e.statistic)),
                    h('td', {}, fmtNumber(e.baseline)),
                    h('td', {}, fmtNumber(e.p_value)),
                    h('td', {}, e.detail || '')
                  )
                )
              )
            )
          )
        : null,
      lineage.length
        ? h(
            'div',
            { class: 'wb-lineage' },
            h('h4', {}, 'Lineage'),
            h(
              'ul',
              {},
              lineage.map(l =>
                h(
                  'li',
                  {},
                  h('span', { class: 'wb-time' }, fmtTime(l.at)),
                  ' ',
                  h('code', {}, l.kind),
                  l.subject ? ` ${l.subject}` : '',
                  l.detail ? ` — ${l.detail}` : '',
                  l.ref ? h('span', { class: 'wb-ref', title: 'where in the lake' }, ` (${l.ref})`) : ''
                )
              )
            )
          )
        : null,
      steps.length
        ? h('div', { class: 'wb-next-steps' }, h('h4', {}, 'Next steps'), h('ol', {}, steps.map(s => h('li', {}, s))))
        : null
    )
  );
}

/** Arguments of the commands started from a findings view. */
export function findingsArgs(f: IFindings, path: string | null): { [k: string]: string } {
  const args: { [k: string]: string } = { lake: f.lake, since: f.window.start, until: f.window.end };
  if (path) {
    args.findings_path = path;
  }
  return args;
}

function actions(f: IFindings, path: string | null): HTMLElement | null {
  const registry = commands();
  if (!registry) {
    return null; // static export or another front end: nothing to run the buttons
  }
  const args = findingsArgs(f, path);
  const run = (id: string, extra: { [k: string]: string } = {}) => () =>
    void registry.execute(id, { ...args, ...extra });
  return h(
    'div',
    { class: 'wb-actions wb-findings-actions' },
    button('New investigation notebook from these findings', 'wb-new-from-findings', run(CommandIDs.newFromFindings)),
    button('Run as report', 'wb-run-findings-report', run(CommandIDs.runReport, { template: 'incident-triage' })),
    button('Record verdicts', 'wb-record-verdicts', run(CommandIDs.recordVerdicts))
  );
}

/** The whole view as one element. `path` is the findings.json path when known. */
export function renderFindings(f: IFindings, path: string | null): HTMLElement {
  const threshold = typeof f.threshold === 'number' ? f.threshold : 0.5;
  const w = f.window;
  const b = f.baseline;
  const ranked = f.hypotheses || [];
  return h(
    'div',
    { class: 'wb-findings', 'data-verdict': f.verdict.cause },
    h(
      'header',
      { class: 'wb-findings-header' },
      h('h2', {}, 'Triage — ', h('span', { class: 'wb-findings-lake' }, f.lake)),
      h(
        'div',
        { class: 'wb-window' },
        `window ${fmtTime(w.start)} .. ${fmtTime(w.end)} (${fmtNumber(w.rows)} rows)`,
        b ? ` · baseline ${fmtTime(b.start)} .. ${fmtTime(b.end)} (${fmtNumber(b.rows)} rows)` : ''
      ),
      path ? h('div', { class: 'wb-findings-path' }, path) : null
    ),
    incomplete(f),
    verdict(f, threshold),
    symptoms(f.symptoms || []),
    actions(f, path),
    h(
      'section',
      { class: 'wb-hypotheses' },
      h('h3', {}, `Hypotheses (${ranked.length}, best first)`),
      ranked.length
        ? ranked.map((hy, i) => hypothesis(hy, i + 1, threshold, i === 0 && f.verdict.cause !== 'none'))
        : h('p', {}, 'No hypothesis produced a finding.')
    )
  );
}
