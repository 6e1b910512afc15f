// The left sidebar "Model debugging": open lakes (facts, validation, timeline, triage form) and the
// report jobs. Rendering only; actions go through the commands and the model.
import { Notification } from '@jupyterlab/apputils';
import { LabIcon } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';
import { CommandIDs } from './app';
import { button, h } from './dom';
import { basename, fmtDuration, fmtNumber, fmtTime, isoToLocalInput, localInputToIso, parseUTC } from './format';
import { ILakeEntry, WorkbenchModel } from './model';
import { ACTIVE, IJob, ILakeResponse } from './types';

export interface IPanelOptions {
  model: WorkbenchModel;
  commands: CommandRegistry;
  icon: LabIcon;
  /** Open a file in the main area (with a widget factory name, or the default one). */
  open: (path: string, factory?: string) => void;
}

export class WorkbenchPanel extends Widget {
  constructor(private readonly options: IPanelOptions) {
    super();
    this.id = 'workbench-panel';
    this.addClass('wb-panel');
    this.title.icon = options.icon;
    this.title.caption = 'Model debugging';
    const { model } = options;
    this.node.append(
      h(
        'header',
        { class: 'wb-panel-header' },
        h('h2', {}, 'Model debugging'),
        h(
          'div',
          { class: 'wb-actions' },
          button('Open lake…', 'wb-open-lake', () => void this.execute(CommandIDs.openLake, {})),
          button('New investigation…', 'wb-new-investigation', () => void this.execute(CommandIDs.newFromTemplate, {}))
        )
      ),
      h('section', { class: 'wb-section wb-lakes-section' }, h('h3', {}, 'Lakes'), this.lakesNode),
      h('section', { class: 'wb-section wb-jobs-section' }, h('h3', {}, 'Reports'), this.jobsNode)
    );
    model.lakesChanged.connect(this.renderLakes, this);
    model.triageChanged.connect((_, lake) => this.renderTriage(lake), this);
    model.jobsChanged.connect(this.renderJobs, this);
    this.renderLakes();
    this.renderJobs();
  }

  protected onAfterShow(): void {
    void this.options.model.refreshJobs();
  }

  private execute(id: string, args: { [k: string]: any }): Promise<unknown> {
    return this.options.commands.execute(id, args).catch(error => {
      Notification.error((error as Error).message, { autoClose: 8000 });
    });
  }

  // ---- lakes ---------------------------------------------------------------------------------

  private renderLakes(): void {
    const { model } = this.options;
    const seen = new Set<string>();
    for (const entry of model.lakes.values()) {
      seen.add(entry.path);
      const key = entry.version;
      const old = this.cards.get(entry.path);
      if (old && old.key === key) {
        continue;
      }
      const card = this.lakeCard(entry);
      if (old) {
        old.node.replaceWith(card);
      } else {
        this.lakesNode.append(card);
      }
      this.cards.set(entry.path, { key, node: card });
      this.renderTriage(entry.path);
    }
    for (const [path, card] of this.cards) {
      if (!seen.has(path)) {
        card.node.remove();
        this.cards.delete(path);
      }
    }
    this.lakesNode.querySelector('.wb-empty')?.remove();
    if (!model.lakes.size) {
      this.lakesNode.append(
        h(
          'p',
          { class: 'wb-empty' },
          'No lake open. Right-click a folder in the file browser → "Open as telemetry lake", or use "Open lake…".'
        )
      );
    }
  }

  private lakeCard(entry: ILakeEntry): HTMLElement {
    const d = entry.data;
    const info = d?.info;
    const title = info?.name || basename(entry.path) || entry.path;
    const head = h(
      'div',
      { class: 'wb-lake-head' },
      h('span', { class: 'wb-lake-name', title: entry.path }, title),
      h('span', { class: 'wb-lake-path' }, entry.path || '(server root)'),
      h(
        'span',
        { class: 'wb-lake-tools' },
        button('⟳', 'wb-refresh-lake', () => void this.options.model.openLake(entry.path, { keepOnError: true }), 'Read the lake again'),
        button('×', 'wb-close-lake', () => this.options.model.closeLake(entry.path), 'Close this lake (files untouched)')
      )
    );
    const card = h('article', { class: 'wb-lake', 'data-path': entry.path }, head);
    if (entry.loading && !d) {
      card.append(h('p', { class: 'wb-loading' }, 'Reading the lake…'));
      return card;
    }
    if (entry.error) {
      card.append(h('div', { class: 'wb-lake-error' }, entry.error));
    }
    if (!d) {
      return card;
    }
    card.append(this.validation(d));
    if (info) {
      card.append(this.facts(d));
    }
    if (d.timeline?.length) {
      card.append(
        h(
          'details',
          { class: 'wb-timeline' },
          h('summary', {}, `Recent events (${d.timeline.length})`),
          h(
            'ul',
            {},
            [...d.timeline].reverse().map(e =>
              h(
                'li',
                { 'data-kind': e.kind },
                h('span', { class: 'wb-time' }, fmtTime(e.time)),
                h('span', { class: 'wb-kind' }, e.kind),
                h('span', { class: 'wb-detail' }, e.detail)
              )
            )
          )
        )
      );
    }
    if (info) {
      card.append(this.triageForm(entry.path, d), h('div', { class: 'wb-triage-status', 'data-lake': entry.path }));
      card.append(
        h(
          'div',
          { class: 'wb-actions' },
          button('New investigation…', 'wb-lake-new-investigation', () =>
            void this.execute(CommandIDs.newFromTemplate, { lake: entry.path })
          ),
          button('Explore in a notebook', 'wb-explore', () =>
            void this.execute(CommandIDs.explore, { lake: entry.path, since: this.formSince(entry.path) })
          )
        )
      );
    }
    return card;
  }

  private validation(d: ILakeResponse): HTMLElement {
    if (d.ok && !d.errors.length) {
      return h(
        'div',
        { class: 'wb-validation wb-mod-ok', 'data-ok': 'true' },
        '✓ valid',
        d.warnings.length ? ` · ${d.warnings.length} warning${d.warnings.length > 1 ? 's' : ''}` : '',
        d.warnings.length ? h('ul', { class: 'wb-warnings' }, d.warnings.map(w => h('li', {}, w))) : null
      );
    }
    return h(
      'div',
      { class: 'wb-validation wb-mod-bad', 'data-ok': 'false' },
      h(
        'ul',
        {},
        d.errors.map(e =>
          h(
            'li',
            { class: 'wb-lake-error', 'data-type': e.type },
            h('strong', {}, e.type),
            ': ',
            e.message,
            e.hint ? h('div', { class: 'wb-hint' }, 'hint: ', e.hint) : null
          )
        )
      ),
      d.warnings.length ? h('ul', { class: 'wb-warnings' }, d.warnings.map(w => h('li', {}, w))) : null
    );
  }

  private facts(d: ILakeResponse): HTMLElement {
    const info = d.info!;
    const p = info.profile;
    const counts = (o: { [k: string]: number } | undefined) =>
      Object.entries(o || {})
        .map(([k, n]) => `${k} (${fmtNumber(n)})`)
        .join(', ') || '—';
    const rows: [string, string, string][] = [
      ['task', 'Task', info.task],
      ['rows', 'Rows', fmtNumber(p.rows)],
      ['span', 'Time range', `${fmtTime(p.start)} .. ${fmtTime(p.end)}`],
      ['versions', 'Versions', counts(p.versions)],
      ['routes', 'Routes', counts(p.routes)],
      [
        'slo',
        'SLOs',
        Object.entries(info.slo || {})
          .map(([k, v]) => `${k} ≤ ${fmtNumber(v)}`)
          .join(', ') || '—'
      ],
      ['lineage', 'Lineage', counts(info.lineage)]
    ];
    return h(
      'div',
      { class: 'wb-facts' },
      rows.map(([key, label, value]) =>
        h('div', { class: 'wb-fact' }, h('span', { class: 'wb-fact-label' }, label), ' ', h('span', { 'data-fact': key }, value))
      )
    );
  }

  // ---- triage form and status ----------------------------------------------------------------

  private triageForm(lake: string, d: ILakeResponse): HTMLElement {
    const defaults = d.defaults;
    const days = this.options.model.settings.defaultBaselineDays || 7;
    const input = (name: string, value: string) =>
      h('input', { type: 'datetime-local', class: `jp-mod-styled wb-input wb-${name}`, name, value, step: 60 });
    const since = input('since', isoToLocalInput(defaults?.since));
    const until = input('until', isoToLocalInput(defaults?.until));
    const baselineOn = h('input', { type: 'checkbox', class: 'wb-baseline-toggle' });
    const bSince = input('baseline_since', '');
    const bUntil = input('baseline_until', '');
    const baseline = h(
      'div',
      { class: 'wb-baseline', hidden: true },
      h('label', {}, 'from', bSince),
      h('label', {}, 'to', bUntil)
    );
    baselineOn.addEventListener('change', () => {
      baseline.hidden = !baselineOn.checked;
      if (baselineOn.checked && !bSince.value) {
        // propose the configured length, ending where the window starts
        const start = parseUTC(localInputToIso(since.value));
        if (start) {
          bUntil.value = isoToLocalInput(start.toISOString());
          bSince.value = isoToLocalInput(new Date(start.getTime() - days * 86400e3).toISOString());
        }
      }
    });
    const go = button('Triage', 'wb-triage-button', () => {
      const value = (el: HTMLInputElement) => (el.value ? localInputToIso(el.value) : null);
      void this.execute(CommandIDs.triage, {
        lake,
        since: value(since),
        until: value(until),
        baseline_since: baselineOn.checked ? value(bSince) : null,
        baseline_until: baselineOn.checked ? value(bUntil) : null
      });
    });
    this.sinceInputs.set(lake, since);
    return h(
      'form',
      { class: 'wb-triage', 'data-lake': lake, onsubmit: (e: Event) => e.preventDefault() },
      h('div', { class: 'wb-triage-title' }, 'Triage a window (UTC)'),
      h('label', {}, 'since', since),
      h('label', {}, 'until', until),
      h(
        'label',
        { class: 'wb-check', title: "Unchecked: the 7 days before \"since\" (the server's default)" },
        baselineOn,
        'custom baseline'
      ),
      baseline,
      go
    );
  }

  private formSince(lake: string): string | null {
    const el = this.sinceInputs.get(lake);
    return el && el.value ? localInputToIso(el.value) : null;
  }

  private renderTriage(lake: string): void {
    const card = this.cards.get(lake)?.node;
    const slot = card?.querySelector('.wb-triage-status') as HTMLElement | null;
    const go = card?.querySelector('.wb-triage-button') as HTMLButtonElement | null;
    if (!slot) {
      return;
    }
    const run = this.options.model.triage.get(lake);
    slot.textContent = '';
    slot.dataset.status = run?.status || '';
    const busy = !!run && (run.status === 'starting' || run.status === 'running');
    if (go) {
      go.disabled = busy;
      go.textContent = busy ? 'Triage running…' : 'Triage';
    }
    if (!run) {
      return;
    }
    if (busy) {
      const last = run.progress[run.progress.length - 1];
      slot.append(h('div', { class: 'wb-spinner-line' }, h('span', { class: 'wb-spinner' }), last || 'starting…'));
    } else if (run.status === 'failed') {
      slot.append(h('div', { class: 'wb-error' }, 'Triage failed: ', run.message || 'no reason given'));
    } else if (run.status === 'done') {
      slot.append(
        h(
          'div',
          { class: 'wb-done' },
          `Verdict: ${run.findings?.verdict?.cause ?? '?'} `,
          run.findingsPath
            ? button('Open findings', 'wb-open-findings', () =>
                void this.execute(CommandIDs.openFindings, { path: run.findingsPath })
              )
            : null
        )
      );
    }
    if (run.progress.length > 1) {
      slot.append(
        h('details', { class: 'wb-progress-log' }, h('summary', {}, 'progress'), h('pre', {}, run.progress.join('\n')))
      );
    }
  }

  // ---- jobs ----------------------------------------------------------------------------------

  private renderJobs(): void {
    const { model } = this.options;
    this.jobsNode.textContent = '';
    if (model.jobsError) {
      this.jobsNode.append(h('div', { class: 'wb-error' }, model.jobsError));
    }
    if (!model.jobs.length) {
      this.jobsNode.append(
        h('p', { class: 'wb-empty' }, 'No report jobs. Start one from a template form, a findings view or a template notebook.')
      );
      return;
    }
    this.jobsNode.append(h('ul', { class: 'wb-jobs' }, model.jobs.map(j => this.jobItem(j))));
  }

  private jobItem(job: IJob): HTMLElement {
    const { open, model } = this.options;
    const active = ACTIVE.includes(job.status);
    const total = job.cells_total || 0;
    const pct = total ? Math.min(100, (100 * job.cells_done) / total) : job.status === 'succeeded' ? 100 : 0;
    const act = (f: () => Promise<void>) => () =>
      void f().catch(error => Notification.error((error as Error).message, { autoClose: 8000 }));
    const lake = job.lake ? basename(job.lake) : '';
    return h(
      'li',
      { class: 'wb-job', 'data-status': job.status, 'data-id': job.id },
      h(
        'div',
        { class: 'wb-job-head' },
        h('span', { class: 'wb-job-template' }, job.template),
        lake ? h('span', { class: 'wb-job-lake' }, lake) : null,
        h('span', { class: `wb-badge wb-status-${job.status}` }, job.status)
      ),
      h(
        'div',
        { class: 'wb-progress', title: total ? `${job.cells_done} of ${total} cells` : '' },
        h('div', { class: 'wb-progress-fill', style: `width: ${pct.toFixed(0)}%` })
      ),
      h(
        'div',
        { class: 'wb-job-meta' },
        [
          total ? `${job.cells_done}/${total} cells` : active ? 'starting' : '',
          fmtDuration(job.duration_s),
          fmtTime(job.created)
        ]
          .filter(Boolean)
          .join(' · '),
        active && job.current_cell ? h('div', { class: 'wb-current-cell' }, `running: ${job.current_cell}`) : null
      ),
      job.status === 'failed'
        ? h(
            'div',
            { class: 'wb-error wb-job-error' },
            h('div', {}, 'failed: ', job.message || 'no reason given'),
            job.failed_cell ? h('code', { class: 'wb-failed-cell' }, job.failed_cell) : null
          )
        : job.message && job.status !== 'succeeded'
          ? h('div', { class: 'wb-job-message' }, job.message)
          : null,
      h(
        'div',
        { class: 'wb-actions' },
        job.outputs.html && job.status === 'succeeded'
          ? button('Open report', 'wb-open-report', () => open(job.outputs.html!, 'HTML Viewer'))
          : null,
        job.outputs.notebook && !active
          ? button(job.status === 'succeeded' ? 'Open notebook' : 'Open partial notebook', 'wb-open-notebook', () =>
              open(job.outputs.notebook!)
            )
          : null,
        job.outputs.findings && job.status === 'succeeded'
          ? button('Open findings', 'wb-open-job-findings', () => open(job.outputs.findings!, 'Workbench Findings'))
          : null,
        active ? button('Cancel', 'wb-cancel-job', act(() => model.cancelJob(job.id))) : null,
        !active ? button('Remove', 'wb-remove-job', act(() => model.removeJob(job.id)), 'Remove from the list (files stay)') : null
      )
    );
  }

  private readonly lakesNode = h('div', { class: 'wb-lakes' });
  private readonly jobsNode = h('div', { class: 'wb-jobs-list' });
  private readonly cards = new Map<string, { key: number; node: HTMLElement }>();
  private readonly sinceInputs = new Map<string, HTMLInputElement>();
}
