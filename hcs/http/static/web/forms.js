// The editor's data forms, a little livelier: a variable named in its row gets its field in
// every sample set and its box among every AI slot's inputs at once, without saving first.
// Without script the page says to save, and the server builds the same fields.
"use strict";

function field(set, name) {
  const prefix = set.dataset.set;
  const id = `f-${prefix.replaceAll(".", "-")}-values-${name}`;
  const wrap = document.createElement("div");
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = name;
  const input = document.createElement("input");
  Object.assign(input, { type: "text", id, name: `${prefix}.values.${name}`, size: 18 });
  wrap.append(label, input);
  return wrap;
}

function box(inputs, name) {
  const prefix = inputs.dataset.slot;
  const id = `f-${prefix.replaceAll(".", "-")}-inputs-${name}`;
  const wrap = document.createElement("span");
  wrap.className = "check";
  const input = document.createElement("input");
  Object.assign(input, { type: "checkbox", id, name: `${prefix}.inputs`, value: name });
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = name;
  wrap.append(input, label);
  return wrap;
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

function declare(name) {
  if (!NAME.test(name)) {
    return;
  }
  document.querySelectorAll(".sample-set[data-set] .row").forEach((row) => {
    const set = row.closest(".sample-set");
    if (!set.querySelector(`[name="${set.dataset.set}.values.${name}"]`)) {
      row.querySelector(".hint")?.remove();
      row.append(field(set, name));
    }
  });
  document.querySelectorAll("fieldset.inputs[data-slot]").forEach((inputs) => {
    if (!inputs.querySelector(`input[type="checkbox"][value="${name}"]`)) {
      inputs.querySelector("legend").after(box(inputs, name));
    }
  });
}

document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.matches && target.matches('#variables input[name$=".name"]')) {
    declare(target.value.trim());
  }
});
