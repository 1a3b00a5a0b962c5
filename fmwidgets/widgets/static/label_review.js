// fm.LabelReview front end: one row at a time, least confident first; accept or pick a label by
// click or key. All text goes in with textContent, so row text and labels are never parsed as HTML.
// Keys (when the widget has focus): Enter / space accept; 1-9 pick that label; ArrowRight / ArrowLeft move.

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render({ model, el: root }) {
  // colours come from the shared theme-aware CSS (fmwidgets/render/style.py, the widget's _css)
  root.classList.add("fm-ui");
  const box = el("div", "fm-label-review fm-box");
  box.tabIndex = 0;
  const top = el("div", "fm-label-review-top");
  const progress = el("span", "fm-label-review-progress");
  const filter = el("select", "fm-label-review-filter");
  filter.style.marginLeft = "12px";
  top.append(progress, filter);
  const text = el("pre", "fm-label-review-text");
  text.style.cssText = "white-space:pre-wrap;margin:6px 0";
  const model_line = el("div", "fm-label-review-model");
  const buttons = el("div", "fm-label-review-buttons");
  const nav = el("div", "fm-label-review-nav");
  const prev = el("button", "fm-label-review-prev", "◀ previous");
  const next = el("button", "fm-label-review-next", "next ▶");
  nav.append(prev, next);
  box.append(top, text, model_line, buttons, nav);
  root.append(box);

  const decide = (label) => model.send({ action: "decide", label });
  const go = (delta) => model.send({ action: "go", delta });
  prev.addEventListener("click", () => go(-1));
  next.addEventListener("click", () => go(1));
  filter.addEventListener("change", () => { model.set("show", filter.value); model.save_changes(); });
  box.addEventListener("keydown", (e) => {
    const labels = model.get("labels");
    if (e.key === "Enter" || e.key === " ") decide(null);
    else if (e.key >= "1" && e.key <= "9" && Number(e.key) <= labels.length) decide(labels[Number(e.key) - 1]);
    else if (e.key === "ArrowRight") go(1);
    else if (e.key === "ArrowLeft") go(-1);
    else return;
    e.preventDefault();
  });

  function draw() {
    const labels = model.get("labels");
    const count = model.get("count");
    progress.textContent = `${model.get("done")} of ${model.get("total")} reviewed · row ${count ? model.get("position") + 1 : 0} of ${count} shown`;
    filter.replaceChildren();
    for (const [value, name] of [["all", "all rows"], ["unreviewed", "unreviewed"], ...labels.map((l) => [l, `model said: ${l}`])]) {
      const option = el("option", "", name);
      option.value = value;
      option.selected = value === model.get("show");
      filter.append(option);
    }
    text.textContent = model.get("text");
    const chosen = model.get("chosen");
    model_line.textContent = count
      ? `model: ${model.get("predicted")} (confidence ${model.get("confidence").toFixed(2)})` + (chosen === null ? "" : ` · reviewed: ${chosen}`)
      : "no rows to show";
    buttons.replaceChildren();
    if (count) {
      const accept = el("button", "fm-label-review-accept", `✓ accept ${model.get("predicted")}`);
      accept.addEventListener("click", () => decide(null));
      buttons.append(accept);
      const scores = Object.fromEntries(model.get("scores"));
      labels.forEach((label, i) => {
        const b = el("button", "fm-label-review-pick", `${i + 1} ${label} (${(scores[label] ?? 0).toFixed(2)})`);
        b.dataset.label = label;
        if (chosen === label) b.classList.add("fm-on");
        b.addEventListener("click", () => decide(label));
        buttons.append(b);
      });
    }
    prev.disabled = model.get("position") === 0;
    next.disabled = model.get("position") >= count - 1;
  }
  for (const name of ["text", "predicted", "chosen", "confidence", "scores", "position", "count", "done", "show", "labels"]) {
    model.on(`change:${name}`, draw);
  }
  draw();
}

export default { render };
