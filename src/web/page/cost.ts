// The cost panel: netc compile's table (params, GFLOP, convolutions per scale and block),
// outputs with their receptive fields, memory, from compiler/summary.ts.
import { gflop, int, mb, shape, type Summary } from '../../compiler/summary.js';

function cell(tag: 'td' | 'th', text: string, className?: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

function row(cells: HTMLElement[], className?: string): HTMLTableRowElement {
  const tr = document.createElement('tr');
  if (className) tr.className = className;
  tr.append(...cells);
  return tr;
}

export function renderCost(el: HTMLElement, s: Summary): void {
  const table = document.createElement('table');
  table.append(row(['scope', 'params', 'GFLOP', 'convs'].map((t) => cell('th', t))));
  for (const r of s.rows) {
    const scope = cell('td', r.scope.split(' / ').pop()!);
    scope.style.paddingLeft = `${0.5 + (r.depth - 1) * 1.2}em`;
    table.append(row([scope, cell('td', int(r.params)), cell('td', gflop(r.flops)), cell('td', String(r.convs))]));
  }
  const total = row([cell('td', 'total'), cell('td', int(s.params)), cell('td', gflop(s.flops)), cell('td', String(s.convs))], 'total');
  total.id = 'cost-total';
  total.dataset.params = String(s.params);
  total.dataset.flops = String(s.flops);
  table.append(total);

  const facts: [string, string][] = [
    ['model', `${s.model}, input ${shape(s.input)}`],
    ['outputs', s.outputs.map((o) => `${o.name} ${shape(o.shape)} (receptive field ${s.receptiveField[o.name] ?? 'whole image'} px)`).join(', ')],
    ['memory', `peak activations ${mb(s.peakActivationBytes)} (float32, batch 1, inference); weights ${mb(s.params * 4)}`],
  ];
  if (s.discriminator) facts.push([s.discriminator.model, `${int(s.discriminator.params)} params, ${gflop(s.discriminator.flops)} GFLOP, ${s.discriminator.convs} convs`]);
  if (s.loss) facts.push(['loss', s.loss.join(', ')]);
  const dl = document.createElement('dl');
  for (const [term, text] of facts) {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = text;
    dl.append(dt, dd);
  }
  el.classList.remove('stale');
  el.replaceChildren(table, dl);
}

/** Keeps the last table, greyed out, while the text does not compile. */
export function markCostStale(el: HTMLElement): void {
  if (!el.firstChild) {
    el.textContent = 'no cost until the model compiles';
    return;
  }
  el.classList.add('stale');
}
