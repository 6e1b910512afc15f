// The form of a template: one typed input per papermill parameter, validated by the server
// (POST templates/NAME/validate), then "Create notebook" or "Run as report".
import { Widget } from '@lumino/widgets';
import { button, h } from './dom';
import { isoToLocalInput, localInputToIso } from './format';
import { APIError, postAPI } from './request';
import { ITemplate, ITemplateParameter } from './types';

/** Parameters the runner sets itself: not shown. */
const HIDDEN = new Set(['output_dir']);

export type FieldKind = 'lake' | 'time' | 'bool' | 'int' | 'float' | 'text';

/** How a parameter is edited, from its name and papermill's type hint. */
export function fieldKind(name: string, p: ITemplateParameter): FieldKind {
  const type = (p.type || '').toLowerCase();
  const dflt = (p.default || '').trim();
  if (name === 'lake' || name.endsWith('_lake') || name === 'lake_path') {
    return 'lake';
  }
  if (type.includes('datetime') || /(^|_)(since|until)$/.test(name)) {
    return 'time';
  }
  if (type.includes('bool') || dflt === 'True' || dflt === 'False') {
    return 'bool';
  }
  if (/\bint\b/.test(type)) {
    return 'int';
  }
  if (/\bfloat\b/.test(type)) {
    return 'float';
  }
  return 'text';
}

/** A Python literal as papermill reports a default (`"x"`, `'x'`, `None`, `3`, `True`) → JSON. */
export function pyLiteral(text: string): string | number | boolean | null {
  const t = (text ?? '').trim();
  if (t === '' || t === 'None') {
    return null;
  }
  if (t === 'True' || t === 'False') {
    return t === 'True';
  }
  const quoted = /^[rbuf]?(['"])([\s\S]*)\1$/i.exec(t);
  if (quoted) {
    return quoted[2].replace(/\\(['"\\])/g, '$1');
  }
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

/** The badge next to a template's name: 'yours' (your templates directory), the distribution of a
 * template pack installed with pip ('pack:<distribution>'), none for a built-in. */
export function sourceBadge(source: string): HTMLSpanElement | null {
  if (source === 'user') {
    return h('span', { class: 'wb-badge' }, 'yours');
  }
  if (source.startsWith('pack:')) {
    return h('span', { class: 'wb-badge', title: `from the template pack ${source.slice(5)}` }, source.slice(5));
  }
  return null;
}

export interface IFormOptions {
  templates: ITemplate[];
  template: string | null;
  lake: string | null;
  /** Paths of the open lakes (for the picker). */
  lakes: () => string[];
  /** The folder selected in (or shown by) the file browser. */
  selectedFolder: () => string | null;
  templatesDir: string | null;
  /** POST notebooks done: open the notebook (and run it when asked). */
  onCreated: (path: string, run: boolean) => Promise<void>;
  /** Start a report job with the form's values. */
  onRunReport: (template: string, params: { [k: string]: any }, lake: string | null) => Promise<void>;
}

interface IField {
  name: string;
  kind: FieldKind;
  param: ITemplateParameter;
  input: HTMLInputElement;
  error: HTMLElement;
  row: HTMLElement;
}

export class TemplateForm extends Widget {
  constructor(private readonly options: IFormOptions) {
    super();
    this.addClass('wb-template-form');
    this.node.tabIndex = -1;
    const names = options.templates.map(t => t.name);
    this.select = h(
      'select',
      { class: 'jp-mod-styled wb-template-select', 'aria-label': 'template' },
      names.map(n => h('option', { value: n }, n))
    );
    this.select.value = options.template && names.includes(options.template) ? options.template : names[0] || '';
    this.select.addEventListener('change', () => this.build());
    this.node.append(
      h('div', { class: 'wb-form-top' }, h('label', {}, 'Template ', this.select)),
      this.head,
      this.fieldsNode,
      h(
        'div',
        { class: 'wb-form-where' },
        h(
          'label',
          {},
          'Notebook folder ',
          this.folder,
          h('span', { class: 'wb-field-help' }, 'empty: next to the lake')
        )
      ),
      h(
        'div',
        { class: 'wb-actions wb-form-actions' },
        button('Create notebook', 'wb-create-notebook', () => void this.submit('notebook')),
        h('label', { class: 'wb-check' }, this.runAfter, 'run it after opening'),
        button('Run as report', 'wb-run-report', () => void this.submit('report'))
      ),
      this.message
    );
    this.build();
  }

  get template(): ITemplate | undefined {
    return this.options.templates.find(t => t.name === this.select.value);
  }

  /** The form's values as JSON parameters (time fields as ISO UTC, empty → the default's kind). */
  values(): { [k: string]: any } {
    const out: { [k: string]: any } = {};
    for (const f of this.fields) {
      const dflt = pyLiteral(f.param.default);
      const v = f.input.value.trim();
      switch (f.kind) {
        case 'bool':
          out[f.name] = f.input.checked;
          break;
        case 'int':
        case 'float':
          out[f.name] = v === '' ? dflt : Number(v);
          break;
        case 'time':
          out[f.name] = v === '' ? (dflt === null ? null : '') : localInputToIso(v);
          break;
        default:
          out[f.name] = v === '' && dflt === null ? null : v;
      }
    }
    return out;
  }

  private build(): void {
    const t = this.template;
    this.fields = [];
    this.head.textContent = '';
    this.fieldsNode.textContent = '';
    this.setMessage('');
    if (!t) {
      this.head.append(h('p', { class: 'wb-error' }, 'No templates found (check the templates directory setting).'));
      return;
    }
    this.node.dataset.template = t.name;
    this.title.label = `New: ${t.name}`;
    this.head.append(
      h('h2', {}, t.name, sourceBadge(t.source)),
      h('p', { class: 'wb-template-description' }, t.description)
    );
    for (const [name, param] of Object.entries(t.parameters)) {
      if (HIDDEN.has(name)) {
        continue;
      }
      this.fields.push(this.field(name, param));
    }
    this.fieldsNode.append(...this.fields.map(f => f.row));
  }

  private field(name: string, param: ITemplateParameter): IField {
    const kind = fieldKind(name, param);
    const dflt = pyLiteral(param.default);
    const input = h('input', { class: 'jp-mod-styled wb-input', name, id: `wb-field-${this.id}-${name}` });
    const extra: HTMLElement[] = [];
    switch (kind) {
      case 'bool':
        input.type = 'checkbox';
        input.checked = dflt === true;
        break;
      case 'int':
      case 'float':
        input.type = 'number';
        input.step = kind === 'int' ? '1' : 'any';
        input.value = typeof dflt === 'number' ? String(dflt) : '';
        break;
      case 'time':
        input.type = 'datetime-local';
        input.step = '60';
        input.value = typeof dflt === 'string' ? isoToLocalInput(dflt) : '';
        extra.push(h('span', { class: 'wb-unit' }, 'UTC'));
        break;
      case 'lake': {
        input.type = 'text';
        input.value = this.options.lake ?? (typeof dflt === 'string' ? dflt : '');
        input.placeholder = 'folder of the lake, relative to the server root';
        const lakes = this.options.lakes();
        if (lakes.length) {
          const pick = h(
            'select',
            { class: 'jp-mod-styled wb-lake-select', 'aria-label': 'open lakes' },
            h('option', { value: '' }, 'open lakes…'),
            lakes.map(l => h('option', { value: l }, l))
          );
          pick.addEventListener('change', () => {
            if (pick.value) {
              input.value = pick.value;
            }
          });
          extra.push(pick);
        }
        extra.push(
          button('use the selected folder', 'wb-use-selected', () => {
            const folder = this.options.selectedFolder();
            if (folder !== null) {
              input.value = folder;
            }
          })
        );
        break;
      }
      default:
        input.type = 'text';
        input.value = typeof dflt === 'string' ? dflt : dflt === null ? '' : String(dflt);
    }
    const error = h('div', { class: 'wb-field-error', hidden: true });
    const label = h('label', { for: input.id }, name, h('span', { class: 'wb-type' }, param.type || ''));
    const row = h(
      'div',
      { class: 'wb-field', 'data-name': name, 'data-kind': kind },
      label,
      h('div', { class: 'wb-field-input' }, input, ...extra),
      param.help ? h('div', { class: 'wb-field-help' }, param.help) : null,
      error
    );
    input.addEventListener('input', () => {
      this.setError(name, '');
      if (!this.fields.some(f => f.row.classList.contains('wb-mod-invalid'))) {
        this.setMessage(''); // the last field in red corrected: the form's error note goes too
      }
    });
    return { name, kind, param, input, error, row };
  }

  private setError(name: string, message: string): void {
    const f = this.fields.find(x => x.name === name);
    if (!f) {
      return;
    }
    f.error.textContent = message;
    f.error.hidden = !message;
    f.row.classList.toggle('wb-mod-invalid', !!message);
  }

  private setMessage(text: string, kind: 'error' | 'info' = 'info'): void {
    this.message.textContent = text;
    this.message.className = `wb-form-message wb-mod-${kind}`;
    this.message.hidden = !text;
  }

  /** Server-side validation; shows the messages beside the fields. True when valid. */
  async validate(): Promise<boolean> {
    const t = this.template!;
    for (const f of this.fields) {
      this.setError(f.name, '');
    }
    try {
      await postAPI(`templates/${encodeURIComponent(t.name)}/validate`, {
        params: this.values(),
        templates_dir: this.options.templatesDir
      });
      return true;
    } catch (error) {
      this.showError(error);
      return false;
    }
  }

  private showError(error: unknown): void {
    const e = error as APIError;
    let placed = false;
    for (const [name, msg] of Object.entries(e.errors || {})) {
      if (this.fields.some(f => f.name === name)) {
        this.setError(name, msg);
        placed = true;
      }
    }
    if (e.field && !e.errors?.[e.field] && this.fields.some(f => f.name === e.field)) {
      this.setError(e.field, e.message);
      placed = true;
    }
    this.setMessage(placed ? 'Not created: correct the fields marked in red.' : e.message, 'error');
  }

  private async submit(what: 'notebook' | 'report'): Promise<void> {
    const t = this.template;
    if (!t || this.busy) {
      return;
    }
    this.busy = true;
    this.node.classList.add('wb-mod-busy');
    try {
      if (!(await this.validate())) {
        return;
      }
      const params = this.values();
      const lakeField = this.fields.find(f => f.kind === 'lake');
      const lake = lakeField ? (params[lakeField.name] as string | null) : this.options.lake;
      if (what === 'notebook') {
        const { path } = await postAPI<{ path: string }>('notebooks', {
          template: t.name,
          params,
          lake: lake || null,
          folder: this.folder.value.trim() || null,
          name: null,
          templates_dir: this.options.templatesDir
        });
        this.setMessage(`Created ${path}`);
        await this.options.onCreated(path, this.runAfter.checked);
      } else {
        await this.options.onRunReport(t.name, params, lake || null);
        this.setMessage('Report job started: follow it under "Reports" in the Model debugging panel.');
      }
    } catch (error) {
      this.showError(error);
    } finally {
      this.busy = false;
      this.node.classList.remove('wb-mod-busy');
    }
  }

  private readonly select: HTMLSelectElement;
  private readonly head = h('div', { class: 'wb-form-head' });
  private readonly fieldsNode = h('div', { class: 'wb-fields' });
  private readonly folder = h('input', { type: 'text', class: 'jp-mod-styled wb-input wb-folder', name: 'folder' });
  private readonly runAfter = h('input', { type: 'checkbox', class: 'wb-run-after' });
  private readonly message = h('div', { class: 'wb-form-message', hidden: true, role: 'status' });
  private fields: IField[] = [];
  private busy = false;
}
