// fm.Review front end: one example at a time, rate by button or key, comment, previous/next.
// All text goes in with textContent, so model output and data are never parsed as HTML.
// Keys (when the widget has focus): 1-5 rate on the 1-5 scale; + / - rate thumbs up / down;
// ArrowRight / n next; ArrowLeft / p previous.

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render({ model, el: root }) {
  // colours come from the shared theme-aware CSS (fmwidgets/render/style.py, the widget's _css)
  root.classList.add("fm-ui");
  const box = el("div", "fm-review fm-box");
  box.tabIndex = 0;
  const progress = el("div", "fm-review-progress");
  const fields = el("div", "fm-review-fields");
  const buttons = el("div", "fm-review-buttons");
  const comment = el("input", "fm-review-comment");
  comment.placeholder = "comment (optional)";
  comment.style.cssText = "width:60%;margin:6px 0";
  const nav = el("div", "fm-review-nav");
  const prev = el("button", "fm-review-prev", "◀ previous");
  const next = el("button", "fm-review-next", "next ▶");
  nav.append(prev, next);
  box.append(progress, fields, buttons, comment, nav);
  root.append(box);

  const rate = (value) => model.send({ action: "rate", value, comment: comment.value });
  const go = (delta) => model.send({ action: "go", delta });
  prev.addEventListener("click", () => go(-1));
  next.addEventListener("click", () => go(1));
  comment.addEventListener("keydown", (e) => e.stopPropagation());
  box.addEventListener("keydown", (e) => {
    const thumbs = model.get("scale") === "thumbs";
    if (!thumbs && e.key >= "1" && e.key <= "5") rate(Number(e.key));
    else if (thumbs && (e.key === "+" || e.key === "-")) rate(e.key === "+" ? 1 : 0);
    else if (e.key === "ArrowRight" || e.key === "n") go(1);
    else if (e.key === "ArrowLeft" || e.key === "p") go(-1);
    else return;
    e.preventDefault();
  });

  function draw() {
    const row = model.get("row");
    const rating = model.get("rating");
    progress.textContent = `row ${model.get("index") + 1} of ${model.get("total")} · ${model.get("rated")} rated`;
    fields.replaceChildren();
    for (const [name, value] of row) {
      const item = el("div", "fm-review-field");
      item.append(el("b", "", name), el("pre", "", value));
      item.lastChild.style.cssText = "white-space:pre-wrap;margin:2px 0 6px 0";
      fields.append(item);
    }
    buttons.replaceChildren();
    const choices = model.get("scale") === "thumbs" ? [[1, "👍 good"], [0, "👎 bad"]] : [1, 2, 3, 4, 5].map((v) => [v, String(v)]);
    for (const [value, label] of choices) {
      const b = el("button", "fm-review-rate", label);
      b.dataset.value = String(value);
      if (rating === value) b.classList.add("fm-on");
      b.addEventListener("click", () => rate(value));
      buttons.append(b);
    }
    comment.value = model.get("comment");
    prev.disabled = model.get("index") === 0;
    next.disabled = model.get("index") >= model.get("total") - 1;
  }
  for (const name of ["row", "rating", "index", "rated", "comment", "scale", "total"]) model.on(`change:${name}`, draw);
  draw();
}

export default { render };
