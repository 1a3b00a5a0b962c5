// fm.Review(comparison) front end: a row's input and two outputs side by side; say which is better.
// The kernel decides which run's output sits on which side (a random order per row) and keeps the
// verdict as a / b / tie; this view only knows "left" (1), "right" (2) and tie (=).
// All text goes in with textContent, so model output and data are never parsed as HTML.
// Keys (when the widget has focus): 1 / 2 pick the left / right output, = ties; ArrowRight / n
// next, ArrowLeft / p previous.

const CHOICES = [["1", "1 · left is better"], ["=", "= · tie"], ["2", "2 · right is better"]];

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function output(cls, title) {
  const box = el("div", `fm-pair-output fm-panel ${cls}`);
  box.style.cssText = "flex:1 1 0;min-width:0";
  const text = el("pre", "fm-pair-text");
  text.style.cssText = "white-space:pre-wrap;margin:2px 0";
  box.append(el("b", "", title), text);
  return { box, text };
}

function render({ model, el: root }) {
  root.classList.add("fm-ui");
  const box = el("div", "fm-pair-review fm-box");
  box.tabIndex = 0;
  const progress = el("div", "fm-pair-progress");
  const fields = el("div", "fm-pair-fields");
  const sides = el("div", "fm-pair-sides");
  sides.style.cssText = "display:flex;gap:8px;margin:6px 0";
  const left = output("fm-pair-left", "Output 1");
  const right = output("fm-pair-right", "Output 2");
  sides.append(left.box, right.box);
  const buttons = el("div", "fm-pair-buttons");
  const comment = el("input", "fm-pair-comment");
  comment.placeholder = "comment (optional)";
  comment.style.cssText = "width:60%;margin:6px 0";
  const nav = el("div", "fm-pair-nav");
  const prev = el("button", "fm-pair-prev", "◀ previous");
  const next = el("button", "fm-pair-next", "next ▶");
  nav.append(prev, next);
  box.append(progress, fields, sides, buttons, comment, nav);
  root.append(box);

  const choose = (value) => model.send({ action: "choose", value, comment: comment.value });
  const go = (delta) => model.send({ action: "go", delta });
  for (const [value, label] of CHOICES) {
    const b = el("button", "fm-pair-choose", label);
    b.dataset.value = value;
    b.addEventListener("click", () => choose(value));
    buttons.append(b);
  }
  prev.addEventListener("click", () => go(-1));
  next.addEventListener("click", () => go(1));
  comment.addEventListener("keydown", (e) => e.stopPropagation());
  box.addEventListener("keydown", (e) => {
    if (e.key === "1" || e.key === "2" || e.key === "=") choose(e.key);
    else if (e.key === "ArrowRight" || e.key === "n") go(1);
    else if (e.key === "ArrowLeft" || e.key === "p") go(-1);
    else return;
    e.preventDefault();
  });

  function draw() {
    const index = model.get("index");
    const total = model.get("total");
    progress.textContent = `${model.get("name")}: pair ${index + 1} of ${total} · ${model.get("reviewed")} reviewed`;
    fields.replaceChildren();
    for (const [name, value] of model.get("fields")) {
      const item = el("div", "fm-pair-field");
      const text = el("pre", "", value);
      text.style.cssText = "white-space:pre-wrap;margin:2px 0 6px 0";
      item.append(el("b", "", name), text);
      fields.append(item);
    }
    left.text.textContent = model.get("left");
    right.text.textContent = model.get("right");
    const choice = model.get("choice");
    for (const b of buttons.children) b.classList.toggle("fm-on", b.dataset.value === choice);
    left.box.classList.toggle("fm-on", choice === "1");
    right.box.classList.toggle("fm-on", choice === "2");
    comment.value = model.get("comment");
    prev.disabled = index === 0;
    next.disabled = index >= total - 1;
  }
  for (const name of ["name", "index", "total", "fields", "left", "right", "choice", "comment", "reviewed"]) {
    model.on(`change:${name}`, draw);
  }
  draw();
}

export default { render };
