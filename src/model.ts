// The state behind the sidebar: open lakes (persisted), triage runs, report jobs (polled).
import { IStateDB } from '@jupyterlab/statedb';
import { ISignal, Signal } from '@lumino/signaling';
import { postAPI, requestAPI } from './request';
import { ACTIVE, IFindings, IJob, ILakeResponse, ITriageStatus } from './types';

/** The extension's settings (schema/plugin.json). */
export interface IWorkbenchSettings {
  templatesDir: string;
  defaultBaselineDays: number;
  maxConcurrentJobs: number;
  reportsDir: string;
}

export const DEFAULT_SETTINGS: IWorkbenchSettings = {
  templatesDir: '',
  defaultBaselineDays: 7,
  maxConcurrentJobs: 2,
  reportsDir: 'reports'
};

/** An open lake: the server's answer, or why it could not be read (kept so the panel can say so). */
export interface ILakeEntry {
  path: string;
  data: ILakeResponse | null;
  error: string | null;
  loading: boolean;
  /** Bumped on every change, so the panel redraws only the cards that changed. */
  version: number;
}

/** A triage run started from this page. */
export interface ITriageRun {
  lake: string;
  id: string | null;
  status: 'starting' | 'running' | 'done' | 'failed';
  progress: string[];
  message: string | null;
  findingsPath: string | null;
  findings: IFindings | null;
}

export interface ITriageWindow {
  since: string | null;
  until: string | null;
  baseline_since: string | null;
  baseline_until: string | null;
}

const STATE_KEY = 'ml-incident-workbench:panel';
const JOB_POLL_MS = 2000;
const TRIAGE_POLL_MS = 1000;

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export class WorkbenchModel {
  constructor(private readonly state: IStateDB | null) {}

  settings: IWorkbenchSettings = { ...DEFAULT_SETTINGS };
  readonly lakes = new Map<string, ILakeEntry>();
  readonly triage = new Map<string, ITriageRun>();
  jobs: IJob[] = [];
  jobsError: string | null = null;

  get lakesChanged(): ISignal<this, void> {
    return this._lakesChanged;
  }
  /** Emits the lake path whose triage run changed. */
  get triageChanged(): ISignal<this, string> {
    return this._triageChanged;
  }
  get jobsChanged(): ISignal<this, void> {
    return this._jobsChanged;
  }
  /** A job seen queued or running by this page has ended (succeeded, failed or cancelled). */
  get jobEnded(): ISignal<this, IJob> {
    return this._jobEnded;
  }

  /**
   * Reopen the lakes of the last session, then the ones the server was started with
   * (`WORKBENCH_OPEN_LAKES`, e.g. `make lab` on the demo lake) that are not open yet.
   */
  async restore(): Promise<void> {
    if (this.state) {
      const saved = (await this.state.fetch(STATE_KEY)) as { lakes?: string[] } | undefined;
      for (const path of saved?.lakes || []) {
        await this.openLake(path, { keepOnError: true });
      }
    }
    let config: { open_lakes?: string[] } = {};
    try {
      config = await requestAPI<{ open_lakes?: string[] }>('config');
    } catch (error) {
      console.warn('workbench: server configuration not read:', error);
    }
    for (const path of config.open_lakes || []) {
      if (!this.lakes.has(normalize(path))) {
        await this.openLake(path, { keepOnError: true });
      }
    }
  }

  /**
   * Open (or refresh) a lake. A path that is not a lake rejects with the server's message, unless
   * `keepOnError` (restoring), where the entry stays with its error so the panel can say why.
   */
  async openLake(path: string, opts: { keepOnError?: boolean } = {}): Promise<ILakeEntry> {
    path = normalize(path);
    const entry: ILakeEntry = this.lakes.get(path) || { path, data: null, error: null, loading: true, version: 0 };
    entry.loading = true;
    entry.version++;
    this.lakes.set(path, entry);
    this._lakesChanged.emit();
    try {
      entry.data = await requestAPI<ILakeResponse>(`lake?path=${encodeURIComponent(path)}`);
      entry.error = null;
    } catch (error) {
      entry.error = (error as Error).message;
      if (!opts.keepOnError) {
        if (!entry.data) {
          this.lakes.delete(path);
        }
        entry.loading = false;
        this._lakesChanged.emit();
        throw error;
      }
    } finally {
      entry.loading = false;
      entry.version++;
    }
    this._lakesChanged.emit();
    void this.save();
    return entry;
  }

  closeLake(path: string): void {
    this.lakes.delete(path);
    this._lakesChanged.emit();
    void this.save();
  }

  /** The path of an open lake named `nameOrPath` (its name or its path), else null. */
  findLake(nameOrPath: string): string | null {
    const p = normalize(nameOrPath);
    if (this.lakes.has(p)) {
      return p;
    }
    for (const e of this.lakes.values()) {
      if (e.data?.info?.name === nameOrPath) {
        return e.path;
      }
    }
    return null;
  }

  /** Start triage on a lake and follow it until it ends; resolves to the finished run. */
  async runTriage(lake: string, window: ITriageWindow): Promise<ITriageRun> {
    const current = this.triage.get(lake);
    if (current && (current.status === 'starting' || current.status === 'running')) {
      throw new Error(`triage is already running on ${lake}: wait for it to finish`);
    }
    const run: ITriageRun = { lake, id: null, status: 'starting', progress: [], message: null, findingsPath: null, findings: null };
    this.triage.set(lake, run);
    this._triageChanged.emit(lake);
    try {
      const started = await postAPI<{ id: string }>('triage', {
        lake,
        ...window,
        output_dir: this.settings.reportsDir || 'reports'
      });
      run.id = started.id;
      run.status = 'running';
      this._triageChanged.emit(lake);
      for (;;) {
        await sleep(TRIAGE_POLL_MS);
        const s = await requestAPI<ITriageStatus>(`triage/${encodeURIComponent(started.id)}`);
        run.progress = s.progress || [];
        run.message = s.message;
        run.findingsPath = s.findings_path;
        if (s.status !== 'running') {
          run.status = s.status;
          run.findings = s.findings;
          this._triageChanged.emit(lake);
          return run;
        }
        this._triageChanged.emit(lake);
      }
    } catch (error) {
      run.status = 'failed';
      run.message = (error as Error).message;
      this._triageChanged.emit(lake);
      return run;
    }
  }

  /** Fetch the job list; while a job is queued or running, keep polling every 2 s. */
  async refreshJobs(): Promise<void> {
    try {
      const { jobs } = await requestAPI<{ jobs: IJob[] }>('jobs');
      this.jobsError = null;
      for (const job of jobs) {
        const before = this._active.has(job.id);
        if (ACTIVE.includes(job.status)) {
          this._active.add(job.id);
        } else if (before) {
          this._active.delete(job.id);
          this._jobEnded.emit(job);
        }
      }
      this.jobs = jobs;
    } catch (error) {
      this.jobsError = (error as Error).message;
    }
    this._jobsChanged.emit();
    if (this.jobs.some(j => ACTIVE.includes(j.status)) && !this.jobsError) {
      this.schedulePoll();
    }
  }

  /** Start a report job (body as the API's `POST jobs`). */
  async startJob(body: { [k: string]: any }): Promise<IJob> {
    const full = body.notebook
      ? body
      : {
          output_dir: this.settings.reportsDir || 'reports',
          max_concurrent: this.settings.maxConcurrentJobs || null,
          templates_dir: this.settings.templatesDir || null,
          ...body
        };
    const { job } = await postAPI<{ job: IJob }>('jobs', full);
    this._active.add(job.id);
    this.jobs = [job, ...this.jobs.filter(j => j.id !== job.id)];
    this._jobsChanged.emit();
    this.schedulePoll();
    return job;
  }

  async cancelJob(id: string): Promise<void> {
    await postAPI(`jobs/${encodeURIComponent(id)}/cancel`, {});
    await this.refreshJobs();
  }

  async removeJob(id: string): Promise<void> {
    await requestAPI(`jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });
    this._active.delete(id);
    this.jobs = this.jobs.filter(j => j.id !== id);
    this._jobsChanged.emit();
  }

  dispose(): void {
    if (this._timer) {
      clearTimeout(this._timer);
    }
    Signal.clearData(this);
  }

  private schedulePoll(): void {
    if (this._timer) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this.refreshJobs();
    }, JOB_POLL_MS);
  }

  private async save(): Promise<void> {
    if (this.state) {
      await this.state.save(STATE_KEY, { lakes: [...this.lakes.keys()] });
    }
  }

  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _active = new Set<string>();
  private _lakesChanged = new Signal<this, void>(this);
  private _triageChanged = new Signal<this, string>(this);
  private _jobsChanged = new Signal<this, void>(this);
  private _jobEnded = new Signal<this, IJob>(this);
}

/** Server-relative POSIX path without leading/trailing slashes ('' is the root). */
export function normalize(path: string): string {
  return path.trim().replace(/\\/g, '/').replace(/^\/+|\/+$/g, '');
}

