// A line diff of two texts (longest common subsequence), for the save dialog.

/** Lines of `before` and `after` as [{op: ' '|'-'|'+', text}]. */
export function lineDiff(before, after) {
  const a = before.split('\n');
  const b = after.split('\n');
  // Common head and tail first: edits are usually small, and the table only covers the middle.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  const table = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      table[i][j] = x[i] === y[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const middle = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      middle.push({ op: ' ', text: x[i] });
      i++;
      j++;
    } else if (i < x.length && (j === y.length || table[i + 1][j] >= table[i][j + 1])) {
      middle.push({ op: '-', text: x[i++] });
    } else {
      middle.push({ op: '+', text: y[j++] });
    }
  }
  return [
    ...a.slice(0, head).map((text) => ({ op: ' ', text })),
    ...middle,
    ...a.slice(a.length - tail).map((text) => ({ op: ' ', text })),
  ];
}

/** Only the changed lines with `context` unchanged lines around them; gaps become {op: '…'}. */
export function compactDiff(lines, context = 3) {
  const keep = new Array(lines.length).fill(false);
  lines.forEach((line, i) => {
    if (line.op === ' ') return;
    for (let k = Math.max(0, i - context); k <= Math.min(lines.length - 1, i + context); k++) keep[k] = true;
  });
  const out = [];
  let skipped = 0;
  lines.forEach((line, i) => {
    if (keep[i]) {
      if (skipped) out.push({ op: '…', text: `${skipped} unchanged ${skipped === 1 ? 'line' : 'lines'}` });
      skipped = 0;
      out.push(line);
    } else {
      skipped++;
    }
  });
  if (skipped && out.length) out.push({ op: '…', text: `${skipped} unchanged ${skipped === 1 ? 'line' : 'lines'}` });
  return out;
}
