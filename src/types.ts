// Shapes of the server's answers (the HTTP API contract). Only the fields the frontend reads.

export interface ILakeError {
  type: string;
  message: string;
  hint: string | null;
}

export interface ITimelineEvent {
  time: string;
  kind: string;
  detail: string;
}

export interface IWindowDefaults {
  since: string;
  until: string;
  baseline_since: string;
  baseline_until: string;
}

export interface ILakeInfo {
  name: string;
  path: string;
  task: string;
  predictions: { files?: number; format?: string; hive?: boolean; [k: string]: any };
  profile: {
    rows: number;
    start: string | null;
    end: string | null;
    versions: { [v: string]: number };
    routes: { [r: string]: number };
    [k: string]: any;
  };
  columns: { [role: string]: string[] };
  lineage: { [kind: string]: number };
  slo: { [sli: string]: number };
  warnings: string[];
}

export interface ILakeResponse {
  path: string;
  info: ILakeInfo | null;
  ok: boolean;
  errors: ILakeError[];
  warnings: string[];
  timeline: ITimelineEvent[];
  defaults: IWindowDefaults | null;
}

export interface ITriageStatus {
  id: string;
  status: 'running' | 'done' | 'failed';
  progress: string[];
  message: string | null;
  findings: IFindings | null;
  findings_path: string | null;
}

export interface ITemplateParameter {
  type: string;
  default: string;
  help: string;
}

export interface ITemplate {
  name: string;
  description: string;
  source: 'builtin' | 'user' | string; // or 'pack:<distribution>' (a template pack installed with pip)
  parameters: { [name: string]: ITemplateParameter };
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface IJob {
  id: string;
  template: string;
  lake: string | null;
  params: { [k: string]: any };
  status: JobStatus;
  cells_done: number;
  cells_total: number | null;
  current_cell: string | null;
  created: string;
  started: string | null;
  finished: string | null;
  duration_s: number | null;
  out_dir: string;
  outputs: { html: string | null; notebook: string | null; findings: string | null };
  message: string | null;
  failed_cell: string | null;
}

export const ACTIVE: JobStatus[] = ['queued', 'running'];

export interface IEvidence {
  check: string;
  statistic: number | null;
  baseline?: number | null;
  p_value?: number | null;
  interval?: [number, number] | null;
  detail?: string;
}

export interface ILineageEvent {
  kind: string;
  at: string | null;
  ref: string | null;
  subject?: string | null;
  detail?: string | null;
}

export interface IHypothesis {
  cause: string;
  score: number;
  subject: { [k: string]: any };
  onset: string | null;
  onset_interval?: [string, string] | null;
  explains?: number | null;
  evidence: IEvidence[];
  lineage: ILineageEvent[];
  next_steps: string[];
  summary?: string;
  hypothesis?: string;
}

export interface ISymptom {
  sli: string;
  baseline: number | null;
  current: number | null;
  slo: number | null;
  breached: boolean;
  [k: string]: any;
}

export interface IFindings {
  schema_version: number;
  lake: string;
  window: { start: string; end: string; rows: number };
  baseline: { start: string; end: string; rows: number };
  symptoms: ISymptom[];
  hypotheses: IHypothesis[];
  verdict: { cause: string; score: number; incomplete?: string };
  threshold?: number;
  meta?: { errors?: { hypothesis?: string; type?: string; message?: string; [k: string]: any }[]; [k: string]: any };
  impact?: IImpact;
}

/** What the diagnosis cost (workbench.rca.impact.measure_impact). */
export interface IImpact {
  since: string;
  until: string;
  hours: number;
  requests: number;
  requests_since_onset: number;
  share: number | null;
  affected: string;
  quality?: { sli: string; baseline: number | null; current: number | null; interval?: [number, number] | null };
}
