// The netc playground page: the model text in CodeMirror, checked by netc's compiler on
// every edit (marks and a list with the CLI's messages), its cost table, and a Run panel
// that deblurs an image on WebGL (or the tfjs CPU backend when WebGL is missing).
// `netc web` serves it with /config.json (the model text, --set values, the weights).
import type { Diagnostic } from '../../compiler/diagnostics.js';
import { summarize } from '../../compiler/summary.js';
import type { WebConfig } from '../defaults.js';
import { initPageBackend } from './backend.js';
import { check, type Checked } from './check.js';
import { markCostStale, renderCost } from './cost.js';
import { createEditor, markDiagnostics, reveal } from './editor.js';
import { setupRunPanel } from './run.js';
import './style.css';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** `netc deblur` compiles at the default size; so does the Run panel. */
const RUN_INPUT: [number, number] = [256, 256];

function listDiagnostics(checked: Checked, onPick: (d: Diagnostic) => void): void {
  const summary = $('problems-summary');
  const list = $('diagnostics');
  const errors = checked.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = checked.diagnostics.length - errors;
  const counts = [errors && `${errors} error${errors > 1 ? 's' : ''}`, warnings && `${warnings} warning${warnings > 1 ? 's' : ''}`].filter(Boolean).join(', ');
  summary.textContent = !checked.ok && checked.problem ? checked.problem : counts || 'no problems';
  summary.className = checked.ok ? 'ok' : 'bad';
  list.replaceChildren(
    ...checked.diagnostics.map((d) => {
      const li = document.createElement('li');
      // The first line of the CLI's report: path:line:col: severity: message
      li.textContent = `${d.loc.file}:${d.loc.line}:${d.loc.column}: ${d.severity}: ${d.message}`;
      Object.assign(li.dataset, { severity: d.severity, line: String(d.loc.line), column: String(d.loc.column), message: d.message });
      li.addEventListener('click', () => onPick(d));
      return li;
    }),
  );
}

async function start(): Promise<void> {
  const started = performance.now();
  const response = await fetch('/config.json');
  if (!response.ok) throw new Error(`/config.json: ${response.status} ${response.statusText}`);
  const config = (await response.json()) as WebConfig;
  $('model-file').textContent = config.model.file;
  const sets = Object.entries(config.set).map(([k, v]) => `${k}=${v}`);
  $('overrides').textContent = sets.length ? `--set ${sets.join(' ')}` : '';
  const backend = initPageBackend(new URLSearchParams(location.search));

  const costEl = $('cost');
  const inputH = $<HTMLInputElement>('input-h');
  const inputW = $<HTMLInputElement>('input-w');
  let text = config.model.text;
  const recheck = () => {
    const input: [number, number] = [Math.max(1, Math.floor(Number(inputH.value) || 1)), Math.max(1, Math.floor(Number(inputW.value) || 1))];
    const checked = check(text, config.model.file, config.set, input);
    markDiagnostics(editor, checked.diagnostics);
    listDiagnostics(checked, (d) => reveal(editor, d));
    if (checked.ok) renderCost(costEl, summarize(checked.result.program));
    else markCostStale(costEl);
    document.body.dataset.checked = String(Number(document.body.dataset.checked ?? 0) + 1);
  };
  let pending: ReturnType<typeof setTimeout> | undefined;
  const editor = createEditor($('editor'), text, (next) => {
    text = next;
    clearTimeout(pending);
    pending = setTimeout(recheck, 120);
  });
  inputH.addEventListener('input', recheck);
  inputW.addEventListener('input', recheck);
  recheck();

  setupRunPanel({
    config,
    backend: await backend,
    program: () => {
      const checked = check(text, config.model.file, config.set, RUN_INPUT);
      if (checked.ok) return { program: checked.result.program };
      const first = checked.diagnostics.find((d) => d.severity === 'error');
      return { problem: checked.problem ?? (first ? `${first.loc.file}:${first.loc.line}:${first.loc.column}: ${first.message}` : 'unknown error') };
    },
  });
  const ms = Math.round(performance.now() - started);
  $('status').textContent = `ready in ${ms} ms`;
  document.body.dataset.ready = String(ms);
}

start().catch((err: Error) => {
  $('status').textContent = `the page failed to start: ${err.message}`;
  console.error(err);
});
