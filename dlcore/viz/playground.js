// The live playground's picture (lesson 06), drawn on <canvas> from the small arrays
// the kernel sends each frame (dlcore/viz/playground.py, Trainer.frame):
//   boundary  GRID x GRID uint8, P(class 1) * 255, row 0 at the top of the plane
//   units     the thumbnails of every column of the network, THUMB x THUMB uint8 each
//             (0 = -1 or less, 255 = +1 or more), layer_sizes giving each column's count
//   weights   one (out, in) list of lists per Linear layer
//   points, losses, epoch, note
// A click on the boundary sends {event: "click", x, y, shift} to the kernel. After each
// frame painted, the root element's data-frame attribute counts the frames.

const NODE = 34;          // a unit's thumbnail, css px
const GAP = 9;            // between two units of a column
const TOP = 22;           // room for the column titles
const NET_W = 470;        // the network's width; its height follows its tallest column
const NET_MIN_H = 300;    // ... with this at least, so the two columns end level
const KEY_H = 34;         // room under the units for the key of the colours
const BOARD = 300;        // the decision boundary, css px
const LOSS_H = 84;        // the loss curves, under the network, as wide as it

function hexToRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

// 256 colours from class 0's colour through white to class 1's; `light` mixes in white.
function palette(colors, light) {
  const lo = hexToRgb(colors[0]), hi = hexToRgb(colors[1]);
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const end = t < 0.5 ? lo : hi;
    const k = Math.abs(t - 0.5) * 2;                    // 0 at the middle, 1 at the ends
    for (let c = 0; c < 3; c++) {
      const v = 255 + (end[c] - 255) * k;
      lut[i * 4 + c] = 255 + (v - 255) * (1 - light);
    }
    lut[i * 4 + 3] = 255;
  }
  return lut;
}

function bytes(value) {
  if (!value) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  if (value instanceof DataView) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(value.buffer || value);
}

// A canvas drawn at the screen's pixel density, with css size w x h.
function makeCanvas(w, h, cls) {
  const canvas = document.createElement("canvas");
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  canvas.style.width = w + "px";
  canvas.style.height = h + "px";
  canvas.className = cls;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return [canvas, ctx];
}

// An n x n grid of uint8 values as a small offscreen image, to be scaled with drawImage.
function gridImage(values, offset, n, lut, scratch) {
  let canvas = scratch.get(n);
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.width = n;
    canvas.height = n;
    scratch.set(n, canvas);
  }
  const ctx = canvas.getContext("2d");
  let image = scratch.get("image" + n);
  if (!image) {
    image = ctx.createImageData(n, n);
    scratch.set("image" + n, image);
  }
  const px = image.data;
  for (let i = 0; i < n * n; i++) {
    const v = values[offset + i] || 0;
    px[i * 4] = lut[v * 4];
    px[i * 4 + 1] = lut[v * 4 + 1];
    px[i * 4 + 2] = lut[v * 4 + 2];
    px[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

// Segments of the 0.5 level line of an n x n grid (marching squares), in grid units.
function contour(values, n) {
  const segs = [];
  const level = 127.5;
  const at = (r, c) => values[r * n + c];
  const cross = (a, b) => (level - a) / (b - a);
  for (let r = 0; r < n - 1; r++) {
    for (let c = 0; c < n - 1; c++) {
      const a = at(r, c), b = at(r, c + 1), d = at(r + 1, c), e = at(r + 1, c + 1);
      const pts = [];
      if ((a > level) !== (b > level)) pts.push([c + cross(a, b), r]);
      if ((b > level) !== (e > level)) pts.push([c + 1, r + cross(b, e)]);
      if ((d > level) !== (e > level)) pts.push([c + cross(d, e), r + 1]);
      if ((a > level) !== (d > level)) pts.push([c, r + cross(a, d)]);
      if (pts.length === 2) segs.push(pts);
      else if (pts.length === 4) { segs.push([pts[0], pts[1]]); segs.push([pts[2], pts[3]]); }
    }
  }
  return segs;
}

function render({ model, el }) {
  el.classList.add("dl-playground");
  const style = document.createElement("style");
  style.textContent = `
    .dl-playground { display: flex; gap: 14px; align-items: flex-start;
      font: 12px/1.35 system-ui, sans-serif; color: #2d3748; padding: 4px 0; }
    .dl-playground .dl-left, .dl-playground .dl-right { display: flex;
      flex-direction: column; gap: 4px; }
    .dl-playground .dl-board { cursor: crosshair; border: 1px solid #cbd5e0; }
    .dl-playground .dl-numbers { display: flex; gap: 14px; align-items: baseline; }
    .dl-playground .dl-epoch { font-size: 15px; font-weight: 600; }
    .dl-playground .dl-note { color: #c53030; min-height: 1em; max-width: ${BOARD}px; }
    .dl-playground .dl-hint { color: #718096; max-width: ${BOARD}px; }`;
  el.appendChild(style);
  let netH = NET_MIN_H;
  const [net, netCtx] = makeCanvas(NET_W, netH, "dl-net");
  const left = document.createElement("div");
  left.className = "dl-left";
  const right = document.createElement("div");
  right.className = "dl-right";
  const numbers = document.createElement("div");
  numbers.className = "dl-numbers";
  const [board, boardCtx] = makeCanvas(BOARD, BOARD, "dl-board");
  const [loss, lossCtx] = makeCanvas(NET_W, LOSS_H, "dl-loss");
  const note = document.createElement("div");
  note.className = "dl-note";
  const hint = document.createElement("div");
  hint.className = "dl-hint";
  left.append(net, loss);
  right.append(numbers, board, note, hint);
  el.append(left, right);

  const scratch = new Map();
  let painted = 0;
  let pending = false;

  function paintNetwork(colors, strong) {
    const sizes = model.get("layer_sizes") || [];
    const thumb = model.get("thumb");
    const units = bytes(model.get("units"));
    const weights = model.get("weights") || [];
    const labels = model.get("feature_labels") || [];
    const ctx = netCtx;
    // as tall as the tallest column and the key under it: no empty band under the units
    const tallest = Math.max(1, labels.length, ...sizes);
    const height = Math.max(NET_MIN_H, TOP + tallest * (NODE + GAP) + KEY_H);
    if (height !== netH) {                                 // resizing clears the canvas
      netH = height;
      const dpr = window.devicePixelRatio || 1;
      net.height = Math.round(netH * dpr);
      net.style.height = netH + "px";
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    ctx.clearRect(0, 0, NET_W, netH);
    const columns = sizes.length + 1;                      // + the output
    const left = 44, right = NET_W - NODE - 6;
    const xs = [];
    for (let i = 0; i < columns; i++) xs.push(left + (right - left) * i / Math.max(columns - 1, 1));
    const ys = sizes.map(n => Array.from({ length: n }, (_, j) => TOP + j * (NODE + GAP)));
    ys.push([TOP]);                                        // the output node
    // weights first, under the nodes: colour by sign, width by size
    let maxW = 0.0;
    weights.forEach(W => W.forEach(row => row.forEach(w => { maxW = Math.max(maxW, Math.abs(w)); })));
    const [neg, pos] = [colors[0], colors[1]];
    weights.forEach((W, l) => {
      if (l + 1 >= ys.length) return;
      W.forEach((row, o) => {
        row.forEach((w, i) => {
          if (ys[l][i] === undefined || ys[l + 1][o] === undefined) return;
          const y0 = ys[l][i] + NODE / 2;
          const y1 = ys[l + 1][o] + NODE / 2;
          ctx.strokeStyle = w >= 0 ? pos : neg;
          ctx.globalAlpha = 0.75;
          ctx.lineWidth = Math.min(7, 0.4 + 6 * Math.abs(w) / Math.max(maxW, 1));
          ctx.beginPath();
          ctx.moveTo(xs[l] + NODE, y0);
          ctx.bezierCurveTo(xs[l] + NODE + 18, y0, xs[l + 1] - 18, y1, xs[l + 1], y1);
          ctx.stroke();
        });
      });
    });
    ctx.globalAlpha = 1;
    // the nodes: each unit's output over the plane
    let offset = 0;
    ctx.imageSmoothingEnabled = true;
    sizes.forEach((n, l) => {
      for (let j = 0; j < n; j++) {
        const img = gridImage(units, offset, thumb, strong, scratch);
        offset += thumb * thumb;
        ctx.drawImage(img, xs[l], ys[l][j], NODE, NODE);
        ctx.strokeStyle = "#4a5568";
        ctx.lineWidth = 1;
        ctx.strokeRect(xs[l] + 0.5, ys[l][j] + 0.5, NODE - 1, NODE - 1);
        if (l === 0 && labels[j]) {
          ctx.fillStyle = "#2d3748";
          ctx.font = "12px system-ui, sans-serif";
          ctx.textAlign = "right";
          ctx.textBaseline = "middle";
          ctx.fillText(labels[j], xs[0] - 5, ys[0][j] + NODE / 2);
        }
      }
    });
    const grid = model.get("grid");
    const boundary = bytes(model.get("boundary"));
    if (boundary.length === grid * grid) {
      const img = gridImage(boundary, 0, grid, strong, scratch);
      ctx.drawImage(img, xs[columns - 1], ys[columns - 1][0], NODE, NODE);
      ctx.strokeRect(xs[columns - 1] + 0.5, ys[columns - 1][0] + 0.5, NODE - 1, NODE - 1);
    }
    // column titles
    ctx.fillStyle = "#4a5568";
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "alphabetic";
    for (let i = 0; i < columns; i++) {
      const title = i === 0 ? "features" : i === columns - 1 ? "output"
        : `${sizes[i]} unit${sizes[i] === 1 ? "" : "s"}`;
      ctx.fillText(title, xs[i] + NODE / 2, TOP - 8);
    }
    ctx.textAlign = "left";
    ctx.fillStyle = "#718096";
    ctx.fillText("each square: that unit's output over the plane; lines: weights", 6, netH - 22);
    ctx.fillStyle = pos;
    ctx.fillText("■ positive", 6, netH - 7);
    ctx.fillStyle = neg;
    ctx.fillText("■ negative (width: size)", 76, netH - 7);
  }

  function paintBoard(colors, light) {
    const grid = model.get("grid"), extent = model.get("extent");
    const boundary = bytes(model.get("boundary"));
    const ctx = boardCtx;
    ctx.clearRect(0, 0, BOARD, BOARD);
    if (boundary.length === grid * grid) {
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(gridImage(boundary, 0, grid, light, scratch), 0, 0, BOARD, BOARD);
      ctx.strokeStyle = "rgba(0,0,0,0.65)";
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      const k = BOARD / (grid - 1);
      for (const [a, b] of contour(boundary, grid)) {
        ctx.moveTo(a[0] * k, a[1] * k);
        ctx.lineTo(b[0] * k, b[1] * k);
      }
      ctx.stroke();
    }
    ctx.strokeStyle = "rgba(0,0,0,0.12)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(BOARD / 2, 0); ctx.lineTo(BOARD / 2, BOARD);
    ctx.moveTo(0, BOARD / 2); ctx.lineTo(BOARD, BOARD / 2);
    ctx.stroke();
    const toPx = (x, y) => [(x + extent) / (2 * extent) * BOARD, (extent - y) / (2 * extent) * BOARD];
    const dots = (points, edge) => {
      for (const [x, y, c] of points) {
        const [px, py] = toPx(x, y);
        ctx.beginPath();
        ctx.arc(px, py, 3.6, 0, 2 * Math.PI);
        ctx.fillStyle = colors[c] || "#000";
        ctx.fill();
        ctx.lineWidth = 1.2;
        ctx.strokeStyle = edge;
        ctx.stroke();
      }
    };
    const train = model.get("train_points") || [];
    const added = Math.min(model.get("added") || 0, train.length);
    dots(train.slice(0, train.length - added), "#ffffff");
    for (const [x, y, c] of train.slice(train.length - added)) {   // the learner's points
      const [px, py] = toPx(x, y);
      ctx.beginPath();
      ctx.arc(px, py, 6, 0, 2 * Math.PI);
      ctx.fillStyle = colors[c] || "#000";
      ctx.fill();
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = "#ffffff";
      ctx.stroke();
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#1a202c";
      ctx.beginPath();
      ctx.arc(px, py, 7.5, 0, 2 * Math.PI);
      ctx.stroke();
    }
    if (model.get("show_test")) dots(model.get("test_points") || [], "#000000");
    ctx.fillStyle = "rgba(45,55,72,0.8)";
    ctx.font = "10px system-ui, sans-serif";
    ctx.textAlign = "left";
    ctx.fillText(`x₁ from −${extent} to ${extent} →`, 4, BOARD - 4);
  }

  function paintLoss() {
    const epochs = model.get("loss_epochs") || [];
    const train = model.get("train_loss") || [], test = model.get("test_loss") || [];
    const ctx = lossCtx;
    ctx.clearRect(0, 0, NET_W, LOSS_H);
    const finite = train.concat(test).filter(v => v !== null && isFinite(v));
    const top = Math.max(0.1, ...finite) * 1.05;
    const last = Math.max(10, epochs.length ? epochs[epochs.length - 1] : 0);
    const L = 30, B = LOSS_H - 14;
    const px = e => L + (NET_W - L - 4) * e / last, py = v => 4 + (B - 4) * (1 - v / top);
    ctx.strokeStyle = "#cbd5e0";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(L, 4); ctx.lineTo(L, B); ctx.lineTo(NET_W - 4, B);
    ctx.stroke();
    ctx.fillStyle = "#718096";
    ctx.font = "10px system-ui, sans-serif";
    ctx.textAlign = "right";
    ctx.fillText(top.toFixed(2), L - 3, 12);
    ctx.fillText("0", L - 3, B);
    ctx.textAlign = "center";
    ctx.fillText(`epoch (0 to ${last})`, (L + NET_W) / 2, LOSS_H - 2);
    const line = (values, color, dash) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.8;
      ctx.setLineDash(dash);
      ctx.beginPath();
      let pen = false;
      values.forEach((v, i) => {
        if (v === null || !isFinite(v)) { pen = false; return; }
        if (pen) ctx.lineTo(px(epochs[i]), py(Math.min(v, top)));
        else ctx.moveTo(px(epochs[i]), py(Math.min(v, top)));
        pen = true;
      });
      ctx.stroke();
      ctx.setLineDash([]);
    };
    line(train, "#718096", []);
    line(test, "#1a202c", [5, 3]);
  }

  // Text is set only when it changes: each DOM change makes the page lay itself out again
  function setText(node, text, html) {
    if (node.dlText === text) return;
    node.dlText = text;                  // a property, not an attribute: no DOM change
    if (html) node.innerHTML = text;
    else node.textContent = text;
  }

  function paintNumbers() {
    const train = model.get("train_loss") || [], test = model.get("test_loss") || [];
    const fmt = v => (v === null || v === undefined || !isFinite(v)) ? "—" : v.toFixed(3);
    setText(numbers, `<span class="dl-epoch">epoch ${model.get("epoch")}</span>` +
      `<span>test loss <b>${fmt(test[test.length - 1])}</b> (dashed)</span>` +
      `<span>training loss <b>${fmt(train[train.length - 1])}</b></span>`, true);
    setText(note, model.get("note") || "", false);
    const names = ["blue", "vermillion"];
    const c = model.get("click_class");
    setText(hint, `Click the plot to add a ${names[c]} training point, shift-click ` +
      `for a ${names[1 - c]} one (drawn larger). White edge: training point; black edge: test point.`,
      false);
  }

  let lutKey = "", strong = null, light = null;

  function paint() {
    pending = false;
    const t0 = performance.now();
    const colors = model.get("colors");
    if (colors.join() !== lutKey) {
      lutKey = colors.join();
      strong = palette(colors, 0.0);
      light = palette(colors, 0.45);
    }
    paintNetwork(colors, strong);
    paintBoard(colors, light);
    paintLoss();
    paintNumbers();
    painted += 1;
    el.setAttribute("data-paint-ms", (performance.now() - t0).toFixed(1));
    el.setAttribute("data-frame", String(painted));
  }

  let messages = 0;

  function schedule() {
    messages += 1;                     // kernel updates received (data-messages)
    el.setAttribute("data-messages", String(messages));
    if (pending) return;
    pending = true;
    // one paint per animation frame, however many attributes a message changed
    (window.requestAnimationFrame || (f => setTimeout(f, 16)))(paint);
  }

  board.addEventListener("click", event => {
    const rect = board.getBoundingClientRect();
    const extent = model.get("extent");
    const x = ((event.clientX - rect.left) / rect.width) * 2 * extent - extent;
    const y = extent - ((event.clientY - rect.top) / rect.height) * 2 * extent;
    model.send({ event: "click", x, y, shift: event.shiftKey });
  });
  model.on("change", schedule);
  paint();
  return () => model.off("change", schedule);
}

export { palette, contour };     // for the tests (node)
export default { render };
