// Graphviz export: one box per op, repeated blocks as clusters (drawn once, labelled xN),
// edges labelled with shapes.
import type { Conv2dAttrs, Graph, Node } from '../ir.js';

export function emitDot(graphs: Graph[]): string {
  const lines = ['digraph netc {', '  rankdir=TB;', '  node [shape=box, style="rounded,filled", fillcolor="#f4f4f4", fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=8];'];
  let cluster = 0;
  const emit = (g: Graph, prefix: string, indent: string) => {
    const name = (id: string) => JSON.stringify(`${prefix}${id}`);
    const shapeOf = (id: string) => g.nodes.find((n) => n.id === id)?.shape ?? g.inputs.find((i) => i.id === id)?.shape;
    for (const input of g.inputs) lines.push(`${indent}${name(input.id)} [label=${JSON.stringify(`${input.name}\n${shapeText(input.shape)}`)}, shape=ellipse, fillcolor="#dde8f8"];`);
    for (const n of g.nodes) {
      if (n.repeat) {
        lines.push(`${indent}subgraph cluster_${cluster++} {`, `${indent}  label=${JSON.stringify(`${n.scope.split(' / ').pop()}`)}; style="rounded,dashed"; color="#888888";`);
        emit(n.repeat.body, `${prefix}${n.id}/`, `${indent}  `);
        lines.push(`${indent}}`);
        const body = n.repeat.body;
        lines.push(`${indent}${name(n.inputs[0])} -> ${JSON.stringify(`${prefix}${n.id}/${body.inputs[0].id}`)} [label=${JSON.stringify(shapeText(shapeOf(n.inputs[0])!))}];`);
        lines.push(`${indent}${name(n.id)} [label=${JSON.stringify(`x${n.repeat.count}`)}, shape=circle, fillcolor="#ffffff"];`);
        lines.push(`${indent}${JSON.stringify(`${prefix}${n.id}/${body.outputs[0].id}`)} -> ${name(n.id)};`);
        continue;
      }
      lines.push(`${indent}${name(n.id)} [label=${JSON.stringify(label(n))}${n.op === 'conv2d' ? ', fillcolor="#fde9c9"' : ''}];`);
      n.inputs.forEach((i) => lines.push(`${indent}${name(i)} -> ${name(n.id)} [label=${JSON.stringify(shapeText(shapeOf(i) ?? []))}];`));
    }
    for (const o of g.outputs) {
      lines.push(`${indent}${JSON.stringify(`${prefix}out:${o.name}`)} [label=${JSON.stringify(`${o.name}\n${shapeText(o.shape)}`)}, shape=ellipse, fillcolor="#dff3df"];`);
      lines.push(`${indent}${name(o.id)} -> ${JSON.stringify(`${prefix}out:${o.name}`)};`);
    }
  };
  for (const g of graphs) {
    lines.push(`  subgraph cluster_${cluster++} {`, `    label=${JSON.stringify(g.name)}; fontsize=14;`);
    emit(g, `${g.name}/`, '    ');
    lines.push('  }');
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

function label(n: Node): string {
  if (n.op === 'conv2d') {
    const a = n.attrs as unknown as Conv2dAttrs;
    const extras = [a.stride[0] > 1 ? `/${a.stride[0]}` : '', a.residual ? ' +res' : '', a.activation ? ` ${a.activation}` : ''].join('');
    return `conv ${a.kernel[0]}x${a.kernel[1]} ${a.filters}${extras}`;
  }
  if (n.op === 'affine') {
    const a = n.attrs as { scale: number; shift: number };
    return `x*${+a.scale.toPrecision(4)} + ${+a.shift.toPrecision(4)}`;
  }
  return n.op;
}

function shapeText(s: number[]): string {
  return s.length === 4 ? `${s[1]}x${s[2]}x${s[3]}` : s.slice(1).join('x');
}
