// The MIME renderer for triage findings: `application/vnd.workbench.findings+json` in notebook
// outputs, and files named findings.json opened with the "Workbench Findings" viewer.
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { findingsProblem, renderFindings } from './findings';
import { h } from './dom';
import { IFindings } from './types';

export const MIME_TYPE = 'application/vnd.workbench.findings+json';
export const FILE_TYPE = 'workbench-findings';
export const FACTORY = 'Workbench Findings';

/** Renders one findings document; knows the file's path when it renders a findings.json file. */
export class FindingsRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private readonly options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('wb-findings-renderer');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[this.options.mimeType] as any;
    this.node.textContent = '';
    const problem = findingsProblem(data);
    if (problem) {
      this.node.append(h('div', { class: 'wb-error' }, problem));
      return Promise.resolve();
    }
    // For a document the resolver's path is the file's; in a notebook it is the notebook's.
    const where = (this.options.resolver as any)?.path;
    const path = typeof where === 'string' && /(^|\/)[^/]*\.json$/.test(where) ? where : null;
    this.node.append(renderFindings(data as IFindings, path));
    return Promise.resolve();
  }
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  defaultRank: 20,
  createRenderer: options => new FindingsRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: 'ml-incident-workbench:findings',
  description: 'Renders workbench triage findings (verdict, ranked hypotheses, evidence).',
  rendererFactory,
  rank: 20,
  dataType: 'json',
  fileTypes: [
    {
      name: FILE_TYPE,
      displayName: 'Workbench findings',
      mimeTypes: [MIME_TYPE],
      extensions: [],
      pattern: '^findings\\.json$',
      fileFormat: 'text',
      iconClass: 'jp-MaterialIcon jp-JSONIcon'
    }
  ],
  documentWidgetFactoryOptions: {
    name: FACTORY,
    label: 'Workbench findings',
    primaryFileType: FILE_TYPE,
    fileTypes: [FILE_TYPE],
    defaultFor: [FILE_TYPE]
  }
};

export default extension;
