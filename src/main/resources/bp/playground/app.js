// bp playground: the page talks JSON to the server (see PlaygroundServer), which trains with bp's engine.
'use strict';

const $ = (id) => document.getElementById(id);
const RED = [214, 39, 40];
const GREEN = [44, 160, 44];
const TRAIN_EPOCHS_PER_REQUEST = 5;

let sessionId = null;
let state = null;
let presets = {};
let running = false;

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) {
    throw new Error(json.error || ('HTTP ' + response.status));
  }
  return json;
}

function showError(e) {
  $('error').textContent = e ? e.message : '';
}

// The number of the last action sent: an answer to an older one (a round of training still on
// its way when the user paused and added a point) must not paint over the newer state.
let lastAction = 0;

async function act(method, action, body) {
  const mine = ++lastAction;
  try {
    const s = await api(method, '/api/sessions/' + sessionId + (action ? '/' + action : ''), body);
    if (mine === lastAction) {
      showError(null);
      render(s);
    }
    return s;
  } catch (e) {
    if (mine === lastAction) {
      showError(e);
    }
    throw e;
  }
}

// ---- settings ---------------------------------------------------------------------------------

function settingsFromControls() {
  const text = $('hidden').value.trim();
  const hidden = text === '' ? [] : text.split(',').map((w) => Number(w.trim()));
  return {
    hidden,
    activation: $('activation').value,
    loss: $('loss').value,
    optimizer: $('optimizer').value,
    lr: Number($('lr').value),
    batch: Number($('batch').value),
    seed: Number($('seed').value),
    points: state.points,
    view: state.config.view,
  };
}

function showSettings(c) {
  $('hidden').value = c.hidden.join(',');
  selectOrAdd($('activation'), c.activation);
  $('loss').value = c.loss;
  $('optimizer').value = c.optimizer;
  $('lr').value = c.lr;
  $('batch').value = c.batch;
  $('seed').value = c.seed;
}

function selectOrAdd(select, value) {
  if (![...select.options].some((o) => o.value === value)) {
    select.add(new Option(value, value));
  }
  select.value = value;
}

// ---- drawing ----------------------------------------------------------------------------------

function render(s) {
  state = s;
  $('status').textContent = s.status;
  if (s.problem) {
    $('error').textContent = s.problem;
  }
  drawPlane();
  drawGraph(s.trace);
  drawChart();
  fillWeights();
  fillPoints();
}

function toCanvas(x, y, canvas) {
  const [x0, x1, y0, y1] = state.config.view;
  return [(x - x0) / (x1 - x0) * canvas.width, (y1 - y) / (y1 - y0) * canvas.height];
}

function toPlane(px, py, canvas) {
  const [x0, x1, y0, y1] = state.config.view;
  return [x0 + px / canvas.width * (x1 - x0), y1 - py / canvas.height * (y1 - y0)];
}

function mix(score) {
  // white at 0.5, the class colour (lightened) towards 0 and 1
  const c = score >= 0.5 ? GREEN : RED;
  const t = Math.min(1, Math.abs(score - 0.5) * 2) * 0.55;
  return c.map((v) => Math.round(255 + (v - 255) * t));
}

function drawPlane() {
  const canvas = $('plane');
  const g = canvas.getContext('2d');
  const n = state.heatmap.size;
  // the grid as an n × n image, stretched over the plane with smoothing between the cell centres
  const cells = document.createElement('canvas');
  cells.width = n;
  cells.height = n;
  const image = cells.getContext('2d').createImageData(n, n);
  state.heatmap.values.forEach((score, i) => {
    const [r, gr, b] = mix(score);
    image.data.set([r, gr, b, 255], 4 * i);
  });
  cells.getContext('2d').putImageData(image, 0, 0);
  g.imageSmoothingEnabled = true;
  g.drawImage(cells, 0, 0, canvas.width, canvas.height);
  drawAxes(g, canvas);
  const scores = state.scores;
  state.points.forEach((p, i) => {
    const [cx, cy] = toCanvas(p.x, p.y, canvas);
    g.beginPath();
    g.arc(cx, cy, 6, 0, 2 * Math.PI);
    g.fillStyle = 'rgb(' + (p.label === 1 ? GREEN : RED).join(',') + ')';
    g.fill();
    const wrong = (scores[i] > 0.5 ? 1 : 0) !== p.label;
    g.lineWidth = wrong ? 2.5 : 1.5;
    g.strokeStyle = wrong ? '#000' : '#fff';
    g.stroke();
  });
}

function drawAxes(g, canvas) {
  const [x0, x1, y0, y1] = state.config.view;
  g.strokeStyle = 'rgba(0,0,0,0.25)';
  g.lineWidth = 1;
  g.beginPath();
  if (x0 < 0 && x1 > 0) {
    const [ax] = toCanvas(0, 0, canvas);
    g.moveTo(ax, 0);
    g.lineTo(ax, canvas.height);
  }
  if (y0 < 0 && y1 > 0) {
    const [, ay] = toCanvas(0, 0, canvas);
    g.moveTo(0, ay);
    g.lineTo(canvas.width, ay);
  }
  g.stroke();
  g.fillStyle = '#333';
  g.font = '11px sans-serif';
  g.fillText(x0 + ' … ' + x1, 4, canvas.height - 4);
  g.fillText('y ' + y0 + ' … ' + y1, 4, 12);
}

function drawGraph(trace) {
  const canvas = $('graph');
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  const sizes = state.network.sizes;
  const layers = state.network.layers;
  const columnX = (l) => 40 + l * (canvas.width - 80) / (sizes.length - 1);
  const nodeY = (l, j) => (j + 1) * canvas.height / (sizes[l] + 1);
  let maxW = 1e-9;
  const shown = layers.map((layer) => strongestPieces(layer));
  shown.forEach((w) => w.forEach((row) => row.forEach((v) => { maxW = Math.max(maxW, Math.abs(v)); })));
  shown.forEach((w, l) => {
    w.forEach((row, j) => row.forEach((v, i) => {
      g.beginPath();
      g.moveTo(columnX(l), nodeY(l, i));
      g.lineTo(columnX(l + 1), nodeY(l + 1, j));
      g.lineWidth = 0.4 + 6 * Math.abs(v) / maxW;
      g.strokeStyle = v >= 0 ? 'rgba(31,119,180,0.75)' : 'rgba(255,127,14,0.75)';
      g.stroke();
    }));
  });
  $('trace-note').textContent = trace
    ? '— sample ' + (trace.sample + 1) + ': activations a, deltas δ = ∂E/∂z (loss ' + trace.loss.toFixed(6) + ')'
    : '— blue positive, orange negative; width |w|';
  for (let l = 0; l < sizes.length; l++) {
    for (let j = 0; j < sizes[l]; j++) {
      const x = columnX(l);
      const y = nodeY(l, j);
      g.beginPath();
      g.arc(x, y, 15, 0, 2 * Math.PI);
      const a = trace ? trace.activations[l][j] : null;
      g.fillStyle = a === null ? '#fff' : 'rgba(43,58,74,' + Math.min(1, Math.abs(a)).toFixed(2) + ')';
      g.fill();
      g.lineWidth = 1.5;
      g.strokeStyle = '#2b3a4a';
      g.stroke();
      g.fillStyle = '#000';
      g.font = '10px sans-serif';
      g.textAlign = 'center';
      const name = l === 0 ? 'x' + (j + 1) : l === sizes.length - 1 ? 'o' + (j + 1) : 'h' + (j + 1);
      g.fillText(name, x, y - 18);
      if (trace) {
        g.fillText('a ' + a.toFixed(4), x, y + 26);
        if (l > 0) {
          g.fillText('δ ' + trace.deltas[l - 1][j].toExponential(2), x, y + 37);
        }
      }
    }
  }
  g.textAlign = 'left';
}

/** For drawing, each connection's weight; a maxout unit shows its piece with the largest |w|. */
function strongestPieces(layer) {
  const units = layer.weight.length / layer.pieces;
  const rows = [];
  for (let j = 0; j < units; j++) {
    rows.push(layer.weight[j].map((_, i) => {
      let best = 0;
      for (let p = 0; p < layer.pieces; p++) {
        const v = layer.weight[p * units + j][i];
        if (Math.abs(v) > Math.abs(best)) {
          best = v;
        }
      }
      return best;
    }));
  }
  return rows;
}

function drawChart() {
  const canvas = $('chart');
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  const h = state.history;
  $('loss-now').textContent = state.loss === null ? '' : '— loss ' + state.loss.toFixed(6);
  const left = 46;
  const bottom = canvas.height - 22;
  g.strokeStyle = '#888';
  g.beginPath();
  g.moveTo(left, 6);
  g.lineTo(left, bottom);
  g.lineTo(canvas.width - 6, bottom);
  g.stroke();
  if (h.length === 0) {
    return;
  }
  const maxLoss = Math.max(...h.map((e) => e[1]), 1e-9);
  const lastIteration = Math.max(h[h.length - 1][0], 1);
  g.fillStyle = '#333';
  g.font = '10px sans-serif';
  g.fillText(maxLoss.toPrecision(3), 2, 12);
  g.fillText('0', 30, bottom);
  g.fillText('iteration ' + lastIteration, canvas.width - 90, canvas.height - 6);
  g.strokeStyle = '#b00020';
  g.lineWidth = 1.5;
  g.beginPath();
  h.forEach(([it, loss], k) => {
    const x = left + it / lastIteration * (canvas.width - left - 8);
    const y = bottom - loss / maxLoss * (bottom - 8);
    if (k === 0) {
      g.moveTo(x, y);
    } else {
      g.lineTo(x, y);
    }
  });
  g.stroke();
}

// ---- tables -----------------------------------------------------------------------------------

function cell(row, text, tag = 'td') {
  const c = document.createElement(tag);
  c.textContent = text;
  row.appendChild(c);
  return c;
}

function fillWeights() {
  const box = $('weights');
  box.replaceChildren();
  const sizes = state.network.sizes;
  state.network.layers.forEach((layer, l) => {
    const table = document.createElement('table');
    const caption = document.createElement('caption');
    caption.textContent = 'Layer ' + (l + 1) + ': ' + sizes[l] + ' → ' + sizes[l + 1] + ', ' + layer.activation;
    table.appendChild(caption);
    const head = table.insertRow();
    cell(head, 'row', 'th');
    for (let i = 0; i < sizes[l]; i++) {
      cell(head, 'w from ' + (l === 0 ? 'x' : 'h') + (i + 1), 'th');
    }
    cell(head, 'bias', 'th');
    if (layer.slope) {
      cell(head, 'slope', 'th');
    }
    const units = sizes[l + 1];
    layer.weight.forEach((w, r) => {
      const row = table.insertRow();
      const unit = (l === state.network.layers.length - 1 ? 'o' : 'h') + (r % units + 1);
      cell(row, layer.pieces > 1 ? unit + ' piece ' + (Math.floor(r / units) + 1) : unit, 'th');
      w.forEach((v) => cell(row, v.toFixed(6)));
      cell(row, layer.bias[r].toFixed(6));
      if (layer.slope) {
        cell(row, layer.slope[r].toFixed(6));
      }
    });
    box.appendChild(table);
  });
}

function fillPoints() {
  const body = $('points').tBodies[0];
  if (document.activeElement && body.contains(document.activeElement)) {
    return; // do not replace the row being edited
  }
  body.replaceChildren();
  state.points.forEach((p, i) => {
    const row = body.insertRow();
    cell(row, String(i + 1), 'th');
    for (const key of ['x', 'y']) {
      const input = document.createElement('input');
      input.type = 'number';
      input.step = 'any';
      input.value = p[key];
      input.addEventListener('change', () => editPoint(i, key, Number(input.value)));
      cell(row, '').appendChild(input);
    }
    const select = document.createElement('select');
    select.add(new Option('red (0)', '0'));
    select.add(new Option('green (1)', '1'));
    select.value = String(p.label);
    select.addEventListener('change', () => editPoint(i, 'label', Number(select.value)));
    cell(row, '').appendChild(select);
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = '✕';
    remove.title = 'Remove this point';
    remove.addEventListener('click', () => setPoints(state.points.filter((_, k) => k !== i)));
    cell(row, '').appendChild(remove);
  });
}

function editPoint(i, key, value) {
  const points = state.points.map((p) => ({ ...p }));
  points[i][key] = value;
  setPoints(points);
}

function setPoints(points) {
  return act('PUT', 'points', { points }).catch(() => {});
}

// ---- controls ---------------------------------------------------------------------------------

function planeClicked(event) {
  const canvas = $('plane');
  const rect = canvas.getBoundingClientRect();
  const px = (event.clientX - rect.left) * canvas.width / rect.width;
  const py = (event.clientY - rect.top) * canvas.height / rect.height;
  const mode = document.querySelector('input[name=mode]:checked').value;
  if (mode === 'remove') {
    let nearest = -1;
    let best = 12 * 12;
    state.points.forEach((p, i) => {
      const [cx, cy] = toCanvas(p.x, p.y, canvas);
      const d = (cx - px) ** 2 + (cy - py) ** 2;
      if (d <= best) {
        best = d;
        nearest = i;
      }
    });
    if (nearest >= 0) {
      setPoints(state.points.filter((_, i) => i !== nearest));
    }
    return;
  }
  const [x, y] = toPlane(px, py, canvas);
  const round = (v) => Math.round(v * 1000) / 1000;
  setPoints([...state.points, { x: round(x), y: round(y), label: Number(mode) }]);
}

async function trainLoop() {
  while (running) {
    try {
      const s = await act('POST', 'train', { epochs: TRAIN_EPOCHS_PER_REQUEST });
      if (s.problem) {
        break;
      }
    } catch (e) {
      break;
    }
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
  setRunning(false);
}

function setRunning(on) {
  running = on;
  $('train').textContent = on ? 'Pause' : 'Train';
  $('train').classList.toggle('running', on);
}

async function loadPreset() {
  const preset = presets[$('preset').value];
  setRunning(false);
  showSettings(preset);
  await act('POST', 'reset', preset).catch(() => {});
}

async function start() {
  const s = await api('POST', '/api/sessions');
  sessionId = s.id;
  showSettings(s.config);
  render(s);
  presets = await api('GET', '/api/presets');
  for (const name of Object.keys(presets)) {
    $('preset').add(new Option(name, name));
  }
  $('load').addEventListener('click', loadPreset);
  $('reset').addEventListener('click', () => {
    setRunning(false);
    act('POST', 'reset', settingsFromControls()).catch(() => {});
  });
  $('step').addEventListener('click', () => {
    setRunning(false);
    act('POST', 'step').catch(() => {});
  });
  $('train').addEventListener('click', () => {
    if (running) {
      setRunning(false);
    } else {
      setRunning(true);
      trainLoop();
    }
  });
  $('plane').addEventListener('click', planeClicked);
  $('add-row').addEventListener('click', () => {
    const [x0, x1, y0, y1] = state.config.view;
    setPoints([...state.points, { x: (x0 + x1) / 2, y: (y0 + y1) / 2, label: 1 }]);
  });
}

start().catch(showError);
