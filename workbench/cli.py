"""The ``workbench`` command: argument parsing only; the work is done by the package.

Exit status: 0 on success, 2 when the input is wrong (the message says what to
fix), 3 when triage ran but some hypothesis failed (the findings are written and
say which), 1 for an unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from workbench._version import __version__
from workbench.exceptions import UsageError, WorkbenchError

__all__ = ["main", "EXIT_INCOMPLETE"]

#: Exit status of ``workbench triage`` when it ran but some hypothesis failed: the verdict covers
#: only the hypotheses that ran (the document is still written, with ``meta.errors``).
EXIT_INCOMPLETE = 3


def _fmt_warning(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
    print(f"warning: {message}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="workbench",
        description="Debug machine-learning models in production from a telemetry lake.",
        epilog="Run `workbench COMMAND --help` for the options of a command.",
    )
    p.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    info = sub.add_parser(
        "lake-info", help="summarise a telemetry lake and check it against the contract",
        description="Open a lake, check every file against the contract and print rows, time span, "
                    "model versions and routes, features, segments, lineage counts and warnings.",
    )
    info.add_argument("lake", metavar="LAKE", help="lake directory (holding workbench.yaml), or that manifest")
    info.add_argument("--json", dest="json_path", metavar="PATH",
                      help="also write the summary as JSON to PATH ('-' for standard output only)")
    info.set_defaults(func=_lake_info)

    synth = sub.add_parser(
        "synth", help="generate a synthetic lake with an injected incident (tests, demos, docs)",
        description="Write a realistic, seeded telemetry lake to OUT, optionally with one injected "
                    "incident, and OUT/truth.json naming the cause, culprit and onset.",
    )
    synth.add_argument("out", metavar="OUT", help="directory to create (the lake root)")
    synth.add_argument("--cause", default="none", help="cause to inject (see --list-causes); default: none")
    synth.add_argument("--variant", type=int, default=0, help="variant of the cause, 0-based (default 0)")
    synth.add_argument("--rows", type=int, default=200_000, help="approximate prediction rows (default 200000)")
    synth.add_argument("--seed", type=int, default=0, help="random seed: names, sizes, timing (default 0)")
    synth.add_argument("--days", type=int, default=21, help="days of data (default 21)")
    synth.add_argument("--task", default="binary_classification",
                       choices=["binary_classification", "multiclass", "regression"], help="model task")
    synth.add_argument("--format", dest="fmt", default="parquet", choices=["parquet", "csv", "ndjson"],
                       help="file format of predictions and labels (default parquet)")
    synth.add_argument("--n-numeric", type=int, default=None, help="number of numeric features (default: by seed)")
    synth.add_argument("--also", metavar="CAUSE[:VARIANT]", default=None,
                       help="a second real cause with its onset in the same hour (coincident changes)")
    synth.add_argument("--benign-at-onset", default=None, choices=["rollout", "dependency_bump", "schema_change"],
                       help="put one routine change in the onset hour (a retrain, a minor bump, an upstream run)")
    synth.add_argument("--ingress-total", action="store_true",
                       help="write ingress counts without routes (metrics/traffic.csv has no route column)")
    synth.add_argument("--overwrite", action="store_true", help="replace OUT if it is an existing lake")
    synth.add_argument("--list-causes", action="store_true", help="list causes and their variants, then exit")
    synth.set_defaults(func=_synth)

    imp = sub.add_parser(
        "import", help="write a generation lake from LLM telemetry (OTLP JSON, Phoenix, Langfuse)",
        description="Read LLM telemetry (OTLP JSON span exports with gen_ai.* or OpenInference attributes, "
                    "Arize Phoenix span exports, Langfuse observation exports) from SRC, a file or a folder of "
                    ".json/.jsonl/.ndjson files, and write a `task: generation` lake to OUT: one row per LLM "
                    "call, retrievals attached to the call they fed, unknown attributes kept as attr.* columns, "
                    "lineage/prompts.csv from the prompt versions seen. SRC is only read; OUT must be new or "
                    "empty, and outside SRC's folder.",
    )
    imp.add_argument("src", metavar="SRC", help="telemetry file, or a folder of them")
    imp.add_argument("out", metavar="OUT", help="directory to create (the lake root)")
    imp.add_argument("--format", dest="fmt", default="auto", choices=["auto", "otlp", "openinference", "langfuse"],
                     help="format of SRC (default auto: told from each file's first record)")
    imp.add_argument("--on-bad-span", default="error", choices=["error", "skip"],
                     help="a span lacking a trace id, span id or start time: stop with an error naming the file, "
                          "line and field (default), or count it, leave it out and say how many")
    imp.add_argument("--name", help="the lake's name (default: OUT's folder name)")
    imp.add_argument("--overwrite", action="store_true", help="replace OUT if it is a lake written before")
    imp.add_argument("--allow-inside-source", action="store_true",
                     help="allow OUT inside SRC's folder (refused by default: the input's folder is left alone)")
    imp.set_defaults(func=_import)

    tri = sub.add_parser(
        "triage", help="rank the causes of an incident: what went wrong, the culprit, since when",
        description="Compare an incident window with a baseline, test every hypothesis of the taxonomy "
                    "against the evidence and the lineage, and print the ranked causes. Exit status 0 "
                    "whenever triage ran, whatever it found (the verdict may be 'none'); 3 when it ran but "
                    "some hypothesis failed (the verdict is incomplete; the findings are still written and "
                    "name them); 2 when it could not run (the message says what to fix).",
    )
    tri.add_argument("lake", metavar="LAKE", help="lake directory (holding workbench.yaml), or that manifest")
    tri.add_argument("--since", required=True, help="start of the incident window (ISO-8601; UTC unless an "
                                                    "offset is given); it may start before the fault")
    tri.add_argument("--until", help="end of the window (default: the last prediction)")
    tri.add_argument("--baseline-since", help="start of the baseline (default: 7 days before --since)")
    tri.add_argument("--baseline-until", help="end of the baseline (default: --since)")
    tri.add_argument("--json", dest="json_path", metavar="PATH",
                     help="write the findings document to PATH ('-' for standard output instead of the summary)")
    tri.add_argument("--trust-artifacts", action="store_true",
                     help="let replays load pickle/joblib model files (they can run code: only for trusted sources)")
    tri.add_argument("--quiet", action="store_true", help="no progress messages on standard error")
    tri.add_argument("--engine", choices=("polars", "spark"), default="polars",
                     help="what computes the summaries: polars here (default) or Apache Spark (the `spark` extra)")
    tri.add_argument("--spark-master", metavar="URL",
                     help="with --engine spark: local[N], spark://host:port or sc://host:port (Spark Connect); "
                          "default local[*]")
    tri.set_defaults(func=_triage)

    rep = sub.add_parser(
        "report", help="run a notebook template into report.ipynb, an offline report.html and findings.json",
        description="Execute a template with Papermill on a lake. Parameters and --out are checked before the "
                    "kernel starts (unknown or ill-typed parameters, times that do not parse, an --out that is a "
                    "file, inside the lake or holding other work are refused); `workbench templates` lists the "
                    "templates and their parameters. "
                    "With --rerun OLD/report.ipynb: run that report's template again with its parameters, check "
                    "the lake against its fingerprint and say whether the findings are identical.",
    )
    rep.add_argument("template", metavar="TEMPLATE", nargs="?", help="template name (or a path to a .ipynb)")
    rep.add_argument("--lake", help="lake directory (with --rerun: only when the lake has moved)")
    rep.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE",
                     help="a template parameter (repeatable); values are YAML scalars")
    rep.add_argument("--params-file", metavar="YAML", help="parameters from a YAML mapping (--param wins)")
    rep.add_argument("--out", required=True, help="output directory: new or empty, or holding a previous report "
                                                  "with --overwrite")
    rep.add_argument("--overwrite", action="store_true",
                     help="replace the previous report in --out (its report.ipynb, report.html, findings.json)")
    rep.add_argument("--pdf", action="store_true",
                     help="also print report.pdf from the HTML with headless Chromium (apt-get install chromium)")
    rep.add_argument("--rerun", metavar="OLD_REPORT.ipynb",
                     help="rerun an earlier report with its template and parameters, and compare")
    rep.add_argument("--templates-dir", help="a directory of your own templates (searched first)")
    rep.set_defaults(func=_report)

    tpl = sub.add_parser(
        "templates", help="list report templates (with their origin and parameters); write and check your own",
        description="List the report templates: yours (--templates-dir, $WORKBENCH_TEMPLATES), those of installed "
                    "template packs (entry points `workbench.templates`) and the built-in ones, each with its origin "
                    "(user, pack:DISTRIBUTION, builtin), description and parameters. On equal names yours win, then "
                    "packs', then the built-ins. `templates new` writes a template; `templates check` checks one.",
    )
    tpl.add_argument("--templates-dir", help="a directory of your own templates (searched first)")
    tpl.set_defaults(func=_templates)
    tsub = tpl.add_subparsers(dest="action", metavar="ACTION")
    new = tsub.add_parser(
        "new", help="write a new template that follows the conventions",
        description="Write DIR/NAME.ipynb: a title cell, a parameters cell (lake, since, until, output_dir, each with "
                    "its help), the built-in templates' set-up cell, triage published for findings.json and one call "
                    "per section; or, with --from, a copy of another template with its outputs cleared. Never "
                    "overwrites a file.",
    )
    new.add_argument("name", metavar="NAME", help="the template's name: lower-case letters, digits, '-' or '_'")
    new.add_argument("--from", dest="from_template", metavar="TEMPLATE",
                     help="start from this template (a name, e.g. incident-triage, or a path to a .ipynb)")
    new.add_argument("--dir", default=".", help="directory to write into (created if missing; default: here)")
    new.add_argument("--templates-dir", default=argparse.SUPPRESS,
                     help="your templates directory, for --from one of yours")
    new.set_defaults(func=_templates_new)
    chk = tsub.add_parser(
        "check", help="check templates against the conventions (and, with --run, run them)",
        description="Check a template, or every *.ipynb of a directory, against the conventions the built-in "
                    "templates follow: a parameters cell first, of annotated literals (str, int, float, bool) with a "
                    "help comment each, including lake and output_dir; no def, class, loops, comprehensions or "
                    "lambda in cells; at most two statements per section cell; no outputs; findings published with "
                    "report.publish. One message per offending cell. With --run, also run each on a lake generated "
                    "with --cause (20,000 rows; `since` 12 hours before the onset unless -p gives it). "
                    "Exit status 0 when all pass, 1 when some do not, 2 for a usage error.",
    )
    chk.add_argument("path", metavar="PATH_OR_DIR", help="a template notebook or a directory of them")
    chk.add_argument("--run", action="store_true", help="also run each template on a generated lake")
    chk.add_argument("--cause", default=None,
                     help="with --run: the incident injected into the lake (default schema_mismatch; "
                          "`workbench synth --list-causes`)")
    chk.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE",
                     help="with --run: a parameter for the templates that declare it (repeatable)")
    chk.set_defaults(func=_templates_check)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    # warnings print as one line on stderr while the command runs; the caller's hook comes back
    # after (main() is also called in-process, e.g. by tests and notebooks)
    shown = warnings.showwarning
    warnings.showwarning = _fmt_warning
    try:
        return args.func(args) or 0
    except WorkbenchError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `workbench triage ... | head`
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = shown


def _check_output(path: str | None, lake: str, option: str) -> None:
    """Refuse an output path that cannot be written, before any work: a directory, a missing
    folder, or a place inside the lake (the lake is read-only)."""
    if path is None or path == "-":
        return
    from workbench.lake.manifest import lake_root

    out = Path(path)
    if out.is_dir():
        raise UsageError(f"{option} names a directory", file=path, column=option,
                         expected="a file path, e.g. findings.json", found="a directory",
                         hint=f"give a file name inside it, e.g. {out / 'findings.json'}")
    if not out.parent.is_dir():
        raise UsageError(f"the folder of {option} does not exist", file=path, column=option,
                         expected="a file in an existing folder", found=f"no folder {out.parent}",
                         hint=f"create it first (mkdir -p {out.parent}) or pick another path")
    root = lake_root(lake)
    if root.is_dir():
        try:
            out.resolve().relative_to(root.resolve())
        except ValueError:
            return
        raise UsageError(f"{option} points inside the lake, which is read-only", file=path, column=option,
                         expected="a path outside the lake", found=f"inside {root}",
                         hint="write it next to the lake or in your working directory")


def _lake_info(args) -> int:
    from workbench.lake.info import lake_info

    _check_output(args.json_path, args.lake, "--json")
    info = lake_info(args.lake)
    if args.json_path == "-":
        print(json.dumps(info.to_dict(), indent=2))
        return 0
    print(info.render())
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as fh:
            json.dump(info.to_dict(), fh, indent=2)
    return 0


def _import(args) -> int:
    from workbench.importers import import_telemetry

    res = import_telemetry(args.src, args.out, format=args.fmt, on_bad_span=args.on_bad_span, name=args.name,
                           overwrite=args.overwrite, allow_inside_source=args.allow_inside_source)
    print(res.render())
    return 0


def _triage(args) -> int:
    from workbench.rca import triage

    _check_output(args.json_path, args.lake, "--json")
    t0 = time.perf_counter()

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - t0:5.1f}s] {msg}", file=sys.stderr, flush=True)

    lake = args.lake
    if args.engine == "spark" or args.spark_master:
        from workbench.lake import open_lake

        if args.engine != "spark":
            raise UsageError("--spark-master needs --engine spark", column="--spark-master",
                             expected="--engine spark --spark-master URL", found="--engine polars")
        progress(f"opening the lake with Spark ({args.spark_master or 'local[*]'})")
        lake = open_lake(args.lake, engine="spark", spark=args.spark_master)
    findings = triage(lake, since=args.since, until=args.until, baseline_since=args.baseline_since,
                      baseline_until=args.baseline_until, progress=progress,
                      trust_artifacts=args.trust_artifacts)
    doc = findings.to_dict()
    status = EXIT_INCOMPLETE if findings.incomplete else 0
    if findings.incomplete:
        print(f"error: triage {findings.incomplete}; the verdict covers only the others "
              f"(exit status {EXIT_INCOMPLETE})", file=sys.stderr)
    if args.json_path == "-":
        print(json.dumps(doc, indent=2))
        return status
    print(findings.render())
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
        print(f"\nfindings: {args.json_path}")
    return status


def _report(args) -> int:
    if args.rerun:
        return _rerun(args)
    import yaml

    from workbench.report import parse_cli_params, run_report

    if not args.template or not args.lake:
        missing = " and ".join(n for n, v in (("TEMPLATE", args.template), ("--lake", args.lake)) if not v)
        raise UsageError(f"report needs {missing}", expected="workbench report TEMPLATE --lake LAKE --out DIR",
                         hint="`workbench templates` lists the templates; --rerun OLD/report.ipynb reruns a report")
    params = {}
    if args.params_file:
        try:
            with open(args.params_file, encoding="utf-8") as fh:
                params = yaml.safe_load(fh) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise UsageError(f"cannot read --params-file: {exc}", file=args.params_file) from None
        if not isinstance(params, dict):
            raise UsageError("--params-file must hold a mapping of parameter names to values", file=args.params_file)
    params.update(parse_cli_params(args.param))
    print(f"running {args.template} on {args.lake} ...", file=sys.stderr, flush=True)
    res = run_report(args.template, lake=args.lake, params=params, out=args.out, templates_dir=args.templates_dir,
                     overwrite=args.overwrite, pdf=args.pdf)
    print(f"report:   {res.html}\nnotebook: {res.notebook}")
    if res.pdf:
        print(f"pdf:      {res.pdf}")
    if res.findings:
        print(f"findings: {res.findings}")
    return 0


def _rerun(args) -> int:
    from workbench.report import rerun_report

    if args.template or args.param or args.params_file:
        given = ", ".join(x for x, v in (("TEMPLATE", args.template), ("--param", args.param),
                                         ("--params-file", args.params_file)) if v)
        raise UsageError("--rerun takes the template and the parameters from the old report", found=given,
                         hint="drop them; to change a parameter, run the template: workbench report TEMPLATE ...")
    print(f"rerunning {args.rerun} with its template and parameters ...", file=sys.stderr, flush=True)
    res = rerun_report(args.rerun, out=args.out, lake=args.lake, templates_dir=args.templates_dir,
                       overwrite=args.overwrite)
    print(f"report:   {res.report.html}\nnotebook: {res.report.notebook}")
    if res.report.findings:
        print(f"findings: {res.report.findings}")
    print(res.render())
    return 0


def _templates(args) -> int:
    from workbench.report import list_templates

    for t in list_templates(args.templates_dir):
        hides = f"; hides {', '.join(t.shadows)}" if t.shadows else ""
        print(f"{t.name}  ({t.origin}{hides})\n  {t.description}")
        for name, p in t.parameters.items():
            if name == "output_dir":
                continue
            print(f"    {name} ({p['type']}, default {p['default']}): {p['help']}")
    return 0


def _templates_new(args) -> int:
    from workbench.report.conventions import check_notebook, render_violations
    from workbench.report.scaffold import new_template

    path = new_template(args.name, from_template=args.from_template, directory=args.dir,
                        templates_dir=getattr(args, "templates_dir", None))
    print(f"wrote {path}")
    problems = check_notebook(path)
    if problems:  # copied from a template that breaks them
        print(f"it breaks the conventions in {len(problems)} place(s):\n{render_violations(problems)}")
    print(f"next: edit it in JupyterLab, `workbench templates check {path}`, then "
          f"`workbench report {args.name} --templates-dir {path.parent} --lake LAKE --out DIR`")
    return 0


def _templates_check(args) -> int:
    import tempfile

    from workbench.report import parse_cli_params
    from workbench.report.conventions import check_notebook, notebooks_in, render_violations, trial_run

    if not args.run and (args.cause or args.param):
        raise UsageError("--cause and --param only apply with --run", column="--cause" if args.cause else "--param",
                         hint=f"workbench templates check {args.path} --run --cause CAUSE")
    notebooks = notebooks_in(args.path)
    params = parse_cli_params(args.param)
    failed = 0
    for nb in notebooks:
        problems = check_notebook(nb)
        if problems:
            failed += 1
            cells = len({v.cell for v in problems})
            print(f"{nb}: {len(problems)} problem(s) in {cells} place(s)\n{render_violations(problems)}")
        else:
            print(f"{nb}: follows the conventions")
    if args.run:
        from workbench.synthetic import CAUSES

        cause = args.cause or "schema_mismatch"
        if cause not in CAUSES:
            raise UsageError("unknown cause", column="--cause", expected=" | ".join(CAUSES), found=repr(cause),
                             hint="`workbench synth --list-causes` lists them with their variants")
        work = Path(tempfile.mkdtemp(prefix="workbench-check-"))
        print(f"running on a generated {cause} lake in {work} ...", file=sys.stderr, flush=True)
        runs = trial_run(notebooks, cause=cause, params=params, workdir=work)
        for r in runs:
            if r.ok:
                print(f"{r.path}: ran on the {cause} lake in {r.seconds:.0f}s")
            else:
                failed += 1
                where = f"\n  cell {r.cell} `{r.first_line}` failed" if r.cell is not None else ""
                print(f"{r.path}: FAILED on the {cause} lake: {r.error}{where}"
                      + (f"\n    partial notebook: {r.notebook}" if r.notebook else ""))
        if all(r.ok for r in runs):
            import shutil

            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work} (the lake and the partial run) to look at", file=sys.stderr)
    return 1 if failed else 0


def _synth(args) -> int:
    from workbench.synthetic import CAUSES, generate_lake

    if args.list_causes:
        for cause, n in CAUSES.items():
            print(f"{cause:20s} variants 0..{n - 1}")
        return 0
    if args.cause not in CAUSES:
        raise _usage("unknown cause", "--cause", " | ".join(CAUSES), repr(args.cause))
    if not 0 <= args.variant < CAUSES[args.cause]:
        raise _usage("unknown variant", "--variant", f"0..{CAUSES[args.cause] - 1} for {args.cause}",
                     str(args.variant))
    if args.rows < 1000:
        raise _usage("too few rows", "--rows", "at least 1000", str(args.rows))
    also = None
    if args.also is not None:
        name, _, variant = args.also.partition(":")
        if name not in CAUSES or name == "none" or not (variant or "0").isdigit() \
                or not 0 <= int(variant or 0) < CAUSES[name]:
            raise _usage("unknown second cause", "--also", "CAUSE[:VARIANT] of a real cause (see --list-causes)",
                         args.also)
        also = (name, int(variant or 0))
    t0 = time.perf_counter()
    try:
        truth = generate_lake(args.out, cause=args.cause, variant=args.variant, rows=args.rows,
                              seed=args.seed, days=args.days, task=args.task, fmt=args.fmt,
                              n_numeric=args.n_numeric, overwrite=args.overwrite, also=also,
                              benign_at_onset=args.benign_at_onset, ingress_by_route=not args.ingress_total)
    except FileExistsError as exc:
        raise _usage(str(exc).splitlines()[0], "OUT", "a new directory, or --overwrite for a lake", args.out)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        option = "--also" if "also" in first or "combine" in first else \
            "--benign-at-onset" if "benign_at_onset" in first else "OUT"
        raise _usage(first, option, "see workbench synth --help", args.also or args.benign_at_onset or args.out)
    took = time.perf_counter() - t0
    print(f"wrote {args.out} in {took:.1f}s: {truth.rows} rows, cause {truth.cause} (variant {truth.variant})")
    if truth.onset is not None:
        from workbench.results import iso

        print(f"onset {iso(truth.onset)}; subject "
              + ", ".join(f"{k}={v}" for k, v in truth.to_dict()["subject"].items() if v))
        for a in truth.to_dict().get("also", []):
            print(f"also {a['cause']} (variant {a['variant']}) onset {a['onset']}; subject "
                  + ", ".join(f"{k}={v}" for k, v in a["subject"].items() if v))
    print(f"truth: {args.out}/truth.json")
    return 0


def _usage(message, option, expected, found) -> WorkbenchError:
    return UsageError(message, column=option, expected=expected, found=found)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
