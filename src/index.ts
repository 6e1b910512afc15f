// The main plugin: commands, launcher cards, the "Model debugging" panel, the notebook toolbar
// button and the settings. The server computes; this wires the UI to the HTTP API.
import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ReadonlyJSONObject } from '@lumino/coreutils';
import { DisposableSet } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';
import { CommandIDs, setCommands } from './app';
import { renderFindings } from './findings';
import { RunAsReportButton } from './toolbar';
import { TemplateForm } from './form';
import { createVerdictsNotebook } from './verdicts';
import { workbenchIcon } from './icon';
import { FACTORY as FINDINGS_FACTORY } from './mime';
import { DEFAULT_SETTINGS, IWorkbenchSettings, normalize, WorkbenchModel } from './model';
import { WorkbenchPanel } from './panel';
import { postAPI, requestAPI } from './request';
import { IFindings, IJob, ITemplate } from './types';

const PLUGIN_ID = 'ml-incident-workbench:plugin';
const CATEGORY = 'Model debugging';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Open telemetry lakes, triage, investigation templates and report jobs.',
  autoStart: true,
  requires: [IDocumentManager],
  optional: [
    ICommandPalette,
    ILauncher,
    ILayoutRestorer,
    ILabShell,
    IStateDB,
    ISettingRegistry,
    IDefaultFileBrowser
  ],
  activate
};

function activate(
  app: JupyterFrontEnd,
  docManager: IDocumentManager,
  palette: ICommandPalette | null,
  launcher: ILauncher | null,
  restorer: ILayoutRestorer | null,
  labShell: ILabShell | null,
  state: IStateDB | null,
  settingRegistry: ISettingRegistry | null,
  browser: IDefaultFileBrowser | null
): void {
  const { commands, shell } = app;
  setCommands(commands);
  const model = new WorkbenchModel(state);
  const open = (path: string, factory?: string) => void docManager.openOrReveal(path, factory);
  const panel = new WorkbenchPanel({ model, commands, icon: workbenchIcon, open });
  shell.add(panel, 'left', { rank: 850 });
  if (restorer) {
    restorer.add(panel, 'workbench-panel');
  }
  const reveal = () => {
    if (labShell) {
      labShell.activateById(panel.id);
    }
  };
  const fail = (error: unknown) => Notification.error((error as Error).message, { autoClose: 10000 });

  // -- helpers ---------------------------------------------------------------------------------

  /** The folder selected in the file browser, else the folder it shows. */
  const selectedFolder = (): string | null => {
    if (!browser) {
      return null;
    }
    for (const item of browser.selectedItems()) {
      if (item.type === 'directory') {
        return item.path;
      }
    }
    return browser.model.path;
  };

  const askFolder = async (title: string, value: string): Promise<string | null> => {
    const result = await InputDialog.getText({
      title,
      label: 'Folder (relative to the server root):',
      text: value,
      okLabel: 'Open'
    });
    return result.button.accept && result.value !== null ? normalize(result.value) : null;
  };

  /** A lake path from a findings `lake` field (a name or a path), asking when it cannot be told. */
  const resolveLake = async (lake: string | undefined): Promise<string | null> => {
    if (lake) {
      const known = model.findLake(lake);
      if (known !== null) {
        return known;
      }
      if (lake.includes('/') && !lake.startsWith('/')) {
        return normalize(lake);
      }
    }
    // a name that no open lake has (or an absolute path, outside what the server shows): ask
    return askFolder(lake ? `Where is the lake "${lake}"?` : 'Which lake?', lake ? '' : (selectedFolder() ?? ''));
  };

  const openNotebook = async (path: string, run: boolean) => {
    const widget = docManager.openOrReveal(path, 'Notebook');
    if (!run || !(widget instanceof NotebookPanel)) {
      return;
    }
    await widget.context.ready;
    await widget.sessionContext.ready;
    // The kernel may report "starting" for a while after the session is ready: a Run All sent
    // then is dropped, so wait for idle.
    const idle = () => widget.sessionContext.session?.kernel?.status === 'idle';
    for (let i = 0; i < 120 && !idle(); i++) {
      await new Promise(resolve => setTimeout(resolve, 500));
    }
    await NotebookActions.runAll(widget.content, widget.sessionContext);
  };

  let templates: ITemplate[] = [];
  const loadTemplates = async (): Promise<ITemplate[]> => {
    const dir = model.settings.templatesDir;
    const q = dir ? `?templates_dir=${encodeURIComponent(dir)}` : '';
    templates = (await requestAPI<{ templates: ITemplate[] }>(`templates${q}`)).templates;
    return templates;
  };

  const startJob = async (body: { [k: string]: any }): Promise<IJob> => {
    const job = await model.startJob(body);
    reveal();
    Notification.info(`Report "${job.template}" ${job.status}: follow it under Reports in the Model debugging panel.`, {
      autoClose: 4000
    });
    return job;
  };

  // -- commands --------------------------------------------------------------------------------

  commands.addCommand(CommandIDs.openPanel, {
    label: 'Show the Model debugging panel',
    execute: reveal
  });

  commands.addCommand(CommandIDs.openLake, {
    label: args => (args.from === 'browser' ? 'Open as telemetry lake' : 'Open a telemetry lake…'),
    caption: 'Read a telemetry lake folder and show it in the Model debugging panel',
    icon: args => (args.from === 'browser' ? undefined : workbenchIcon),
    execute: async args => {
      let path = args.path as string | undefined;
      if (path === undefined && args.from === 'browser') {
        path = browser?.selectedItems().next()?.value?.path;
      }
      if (path === undefined) {
        const asked = await askFolder('Open a telemetry lake', browser?.model.path ?? '');
        if (asked === null) {
          return;
        }
        path = asked;
      }
      reveal();
      try {
        await model.openLake(path);
      } catch (error) {
        fail(error);
      }
    }
  });

  commands.addCommand(CommandIDs.triage, {
    label: 'Triage a lake',
    caption: 'Find what went wrong in a window, why and since when',
    execute: async args => {
      const lake = (args.lake as string) || [...model.lakes.keys()][0];
      if (!lake) {
        fail(new Error('Open a lake first (folder context menu → "Open as telemetry lake").'));
        return;
      }
      reveal();
      const pick = (k: string) => (args[k] as string | null | undefined) || null;
      const run = await model.runTriage(lake, {
        since: pick('since'),
        until: pick('until'),
        baseline_since: pick('baseline_since'),
        baseline_until: pick('baseline_until')
      });
      if (run.status === 'failed') {
        fail(new Error(`Triage of ${lake} failed: ${run.message || 'no reason given'}`));
        return;
      }
      if (run.findingsPath) {
        await commands.execute(CommandIDs.openFindings, { path: run.findingsPath });
      } else if (run.findings) {
        await commands.execute(CommandIDs.openFindings, { findings: run.findings as any });
      }
    }
  });

  commands.addCommand(CommandIDs.openFindings, {
    label: 'Open triage findings',
    execute: async args => {
      if (args.path) {
        docManager.openOrReveal(args.path as string, FINDINGS_FACTORY);
        return;
      }
      const findings = args.findings as unknown as IFindings | undefined;
      if (!findings) {
        fail(new Error('open-findings needs a path to a findings.json (or the findings themselves)'));
        return;
      }
      const content = new Widget();
      content.addClass('wb-findings-renderer');
      content.node.append(renderFindings(findings, null));
      const widget = new MainAreaWidget({ content });
      widget.title.label = `Findings: ${findings.lake}`;
      widget.title.icon = workbenchIcon;
      shell.add(widget, 'main');
    }
  });

  commands.addCommand(CommandIDs.newFromTemplate, {
    label: args => (args.template ? String(args.template) : 'New investigation…'),
    caption: args => (args.caption ? String(args.caption) : 'A notebook from an investigation template'),
    icon: workbenchIcon,
    execute: async args => {
      try {
        await loadTemplates();
      } catch (error) {
        fail(error);
        return;
      }
      const lakeArg = (args.lake as string) || [...model.lakes.keys()][0] || null;
      const content = new TemplateForm({
        templates,
        template: (args.template as string) || null,
        lake: lakeArg,
        lakes: () => [...model.lakes.keys()],
        selectedFolder,
        templatesDir: model.settings.templatesDir || null,
        onCreated: (path, run) => openNotebook(path, run),
        onRunReport: async (template, params, lake) => {
          await startJob({ template, params, lake });
        }
      });
      const widget = new MainAreaWidget({ content });
      widget.id = `wb-template-form-${Date.now()}`;
      widget.title.label = content.title.label || 'New investigation';
      content.title.changed.connect(() => (widget.title.label = content.title.label));
      widget.title.icon = workbenchIcon;
      widget.title.closable = true;
      shell.add(widget, 'main');
      shell.activateById(widget.id);
    }
  });

  commands.addCommand(CommandIDs.runReport, {
    label: 'Run as report',
    caption: 'Run a template as a report job (notebook + report.html)',
    execute: async args => {
      try {
        if (args.notebook) {
          await startJob({ notebook: args.notebook });
          return;
        }
        const template = (args.template as string) || 'incident-triage';
        const lake = await resolveLake(args.lake as string | undefined);
        if (lake === null) {
          return;
        }
        const params: { [k: string]: any } = { ...((args.params as any) || {}), lake };
        for (const k of ['since', 'until']) {
          if (args[k] && params[k] === undefined) {
            params[k] = args[k];
          }
        }
        await startJob({ template, params, lake });
      } catch (error) {
        fail(error);
      }
    }
  });

  commands.addCommand(CommandIDs.explore, {
    label: 'Explore a lake in a notebook',
    execute: async args => {
      const lake = (args.lake as string) || (await resolveLake(undefined));
      if (lake === null) {
        return;
      }
      try {
        const { path } = await postAPI<{ path: string }>('explore', {
          lake,
          since: (args.since as string) || null,
          folder: null
        });
        await openNotebook(path, false);
      } catch (error) {
        fail(error);
      }
    }
  });

  commands.addCommand(CommandIDs.newFromFindings, {
    label: 'New investigation notebook from findings',
    execute: async args => {
      const lake = await resolveLake(args.lake as string | undefined);
      if (lake === null) {
        return;
      }
      try {
        const params: { [k: string]: any } = { lake };
        for (const k of ['since', 'until']) {
          if (args[k]) {
            params[k] = args[k];
          }
        }
        const { path } = await postAPI<{ path: string }>('notebooks', {
          template: 'incident-triage',
          params,
          lake,
          folder: args.findings_path ? PathExt.dirname(args.findings_path as string) : null,
          name: null,
          templates_dir: model.settings.templatesDir || null,
          findings_path: (args.findings_path as string) || null
        });
        await openNotebook(path, false);
      } catch (error) {
        fail(error);
      }
    }
  });

  commands.addCommand(CommandIDs.recordVerdicts, {
    label: 'Record verdicts on findings',
    execute: async args => {
      const findingsPath = args.findings_path as string | undefined;
      if (!findingsPath) {
        await showDialog({
          title: 'Record verdicts',
          body:
            'Recording verdicts needs the findings file. Open the findings.json written by triage ' +
            '(in its output folder) and use "Record verdicts" there.',
          buttons: [Dialog.okButton()]
        });
        return;
      }
      try {
        let path: string;
        try {
          path = (await postAPI<{ path: string }>('notebooks', { kind: 'verdicts', findings_path: findingsPath })).path;
        } catch (error) {
          const status = (error as any).status;
          if (status !== 400 && status !== 404 && status !== 405) {
            throw error;
          }
          // the server makes template notebooks only: write the small board notebook here
          path = await createVerdictsNotebook(app.serviceManager.contents, findingsPath);
        }
        await openNotebook(path, true);
      } catch (error) {
        fail(error);
      }
    }
  });

  if (palette) {
    const category = 'Model debugging';
    for (const command of [
      CommandIDs.openLake,
      CommandIDs.triage,
      CommandIDs.newFromTemplate,
      CommandIDs.explore,
      CommandIDs.openPanel
    ]) {
      palette.addItem({ command, category });
    }
  }

  // -- launcher --------------------------------------------------------------------------------

  let cards = new DisposableSet();
  const refreshLauncher = async () => {
    if (!launcher) {
      return;
    }
    cards.dispose();
    cards = new DisposableSet();
    cards.add(launcher.add({ command: CommandIDs.openLake, category: CATEGORY, rank: 0 }));
    try {
      await loadTemplates();
    } catch (error) {
      console.warn('workbench: no templates for the launcher:', (error as Error).message);
      return;
    }
    templates.forEach((t, i) => {
      const args: ReadonlyJSONObject = { template: t.name, caption: t.description };
      cards.add(launcher.add({ command: CommandIDs.newFromTemplate, args, category: CATEGORY, rank: i + 1 }));
    });
  };

  // -- notebook toolbar: "Run as report" on template notebooks ---------------------------------

  app.docRegistry.addWidgetExtension('Notebook', new RunAsReportButton(commands));

  // -- job notifications -----------------------------------------------------------------------

  model.jobEnded.connect((_, job) => {
    const html = job.outputs.html;
    const nb = job.outputs.notebook;
    if (job.status === 'succeeded') {
      Notification.success(`Report "${job.template}" done${job.duration_s ? ` in ${job.duration_s.toFixed(0)} s` : ''}.`, {
        autoClose: 10000,
        actions: html ? [{ label: 'Open report', callback: () => open(html, 'HTML Viewer') }] : []
      });
    } else if (job.status === 'failed') {
      const message = job.message || 'no reason given';
      const where = job.failed_cell && !/\bcell\b/.test(message) ? ` in ${job.failed_cell}` : '';
      Notification.error(`Report "${job.template}" failed${where}: ${message}`, {
        autoClose: false,
        actions: nb ? [{ label: 'Open partial notebook', callback: () => open(nb) }] : []
      });
    } else if (job.status === 'cancelled') {
      Notification.warning(`Report "${job.template}" cancelled.`, { autoClose: 5000 });
    }
  });

  // -- settings and startup --------------------------------------------------------------------

  const applySettings = (s: ISettingRegistry.ISettings | null) => {
    const next: IWorkbenchSettings = { ...DEFAULT_SETTINGS };
    if (s) {
      for (const k of Object.keys(DEFAULT_SETTINGS) as (keyof IWorkbenchSettings)[]) {
        (next as any)[k] = s.get(k).composite ?? DEFAULT_SETTINGS[k];
      }
    }
    const dirChanged = next.templatesDir !== model.settings.templatesDir;
    model.settings = next;
    return dirChanged;
  };

  void app.restored.then(async () => {
    let settings: ISettingRegistry.ISettings | null = null;
    if (settingRegistry) {
      try {
        settings = await settingRegistry.load(PLUGIN_ID);
        settings.changed.connect(s => {
          if (applySettings(s)) {
            void refreshLauncher();
          }
        });
      } catch (error) {
        console.warn('workbench: settings not loaded:', error);
      }
    }
    applySettings(settings);
    await Promise.all([refreshLauncher(), model.restore(), model.refreshJobs()]);
  });
}

export default plugin;
