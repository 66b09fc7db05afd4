// SMS and chat bodies: a live meter of characters and segments that names the character forcing
// UCS-2, and a variable picker. The template text is measured with its variables left out (the
// preview beside it measures the rendered message). The tables are channels/sms/segments.py's
// (tests/unit/test_meter_tables.py keeps them equal).
"use strict";

const GSM_BASIC = new Set("\n\r !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz\u00a1\u00a3\u00a4\u00a5\u00a7\u00bf\u00c4\u00c5\u00c6\u00c7\u00c9\u00d1\u00d6\u00d8\u00dc\u00df\u00e0\u00e4\u00e5\u00e6\u00e8\u00e9\u00ec\u00f1\u00f2\u00f6\u00f8\u00f9\u00fc\u0393\u0394\u0398\u039b\u039e\u03a0\u03a3\u03a6\u03a8\u03a9");
const GSM_EXTENSION = new Set("\f[\\]^{|}~\u20ac");
const GSM_LOOKALIKES = {"\u00a0": " ", "\u00ab": "\"", "\u00b4": "'", "\u00bb": "\"", "\u02bc": "'", "\u1680": " ", "\u2000": " ", "\u2001": " ", "\u2002": " ", "\u2003": " ", "\u2004": " ", "\u2005": " ", "\u2006": " ", "\u2007": " ", "\u2008": " ", "\u2009": " ", "\u200a": " ", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u201c": "\"", "\u201d": "\"", "\u201e": "\"", "\u201f": "\"", "\u2022": "-", "\u2026": "...", "\u202f": " ", "\u2032": "'", "\u2033": "\"", "\u205f": " ", "\u2212": "-", "\u3000": " "};
const GSM_SIZES = { single: 160, multi: 153 };
const UCS2_SIZES = { single: 70, multi: 67 };
const TAG = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g;

function codePoint(char) {
  return `U+${char.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
}

function segments(costs, sizes) {
  const total = costs.reduce((a, b) => a + b, 0);
  if (total <= sizes.single) {
    return costs.length ? 1 : 0;
  }
  let count = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > sizes.multi) {
      count += 1;
      used = 0;
    }
    used += cost;
  }
  return count;
}

function measure(template) {
  const variables = (template.match(/\{\{[\s\S]*?\}\}/g) || []).length;
  const raw = Array.from(template.replace(TAG, ""));
  const replaced = [...new Set(raw.filter((c) => c in GSM_LOOKALIKES))];
  const chars = Array.from(raw.map((c) => GSM_LOOKALIKES[c] ?? c).join(""));
  const forcing = [...new Set(chars.filter((c) => !GSM_BASIC.has(c) && !GSM_EXTENSION.has(c)))];
  const ucs2 = forcing.length > 0;
  const costs = chars.map((c) => (ucs2 ? (c.codePointAt(0) > 0xffff ? 2 : 1)
    : (GSM_EXTENSION.has(c) ? 2 : 1)));
  return { variables, characters: chars.length, forcing, replaced,
    encoding: ucs2 ? "UCS-2" : "GSM-7", segments: segments(costs, ucs2 ? UCS2_SIZES : GSM_SIZES),
    perSegment: ucs2 ? UCS2_SIZES.single : GSM_SIZES.single };
}

function describe(found) {
  const parts = [`${found.characters} characters`];
  if (found.variables) {
    parts[0] += ` + ${found.variables} variable${found.variables === 1 ? "" : "s"}`;
  }
  parts.push(found.encoding,
    `${found.segments} segment${found.segments === 1 ? "" : "s"} (${found.perSegment} characters fit in one)`);
  let text = parts.join(" · ");
  if (found.forcing.length) {
    text += `. UCS-2 because of: ${found.forcing.map((c) => `“${c}” (${codePoint(c)})`).join(", ")}`;
  }
  if (found.replaced.length) {
    text += `. Sent as plain GSM-7: ${found.replaced.map((c) => `“${c}” → “${GSM_LOOKALIKES[c]}”`).join(", ")}`;
  }
  return text;
}

function variableNames() {
  const typed = document.querySelector('#editor textarea[name="variables"]');
  let names = [];
  try {
    names = JSON.parse(typed ? typed.value : "[]").map((v) => v && v.name).filter(Boolean);
  } catch (error) {
    // being typed
  }
  for (const input of document.querySelectorAll('#editor input[name^="variables"][name$="name"]')) {
    names.push(input.value.trim());
  }
  return [...new Set(names.filter(Boolean))];
}

let meterCount = 0;

function meterFor(area) {
  const id = `meter-${++meterCount}`;
  const meter = document.createElement("p");
  meter.className = "hint meter";
  meter.id = id;
  meter.setAttribute("aria-live", "polite");
  const update = () => {
    const found = measure(area.value);
    meter.textContent = describe(found);
    meter.classList.toggle("meter-ucs2", found.forcing.length > 0);
  };
  area.addEventListener("input", update);
  update();

  const list = document.createElement("datalist");
  list.id = `${id}-variables`;
  const picker = document.createElement("input");
  picker.type = "text";
  picker.className = "vpicker";
  picker.placeholder = "variable";
  picker.setAttribute("list", list.id);
  picker.setAttribute("aria-label", `Variable to insert into ${area.name}`);
  picker.addEventListener("focus", () => {
    list.textContent = "";
    for (const name of variableNames()) {
      const option = document.createElement("option");
      option.value = name;
      list.append(option);
    }
  });
  const insert = document.createElement("button");
  insert.type = "button";
  insert.className = "secondary";
  insert.textContent = "Insert variable";
  insert.setAttribute("aria-label", `Insert variable into ${area.name}`);
  const put = () => {
    const name = picker.value.trim();
    if (!/^[A-Za-z][\w.]*$/.test(name)) {
      picker.focus();
      return;
    }
    const text = `{{ ${name} }}`;
    const ask = new CustomEvent("hcs:insert", { cancelable: true, detail: text });
    if (area.dispatchEvent(ask)) { // no code editor over the field: insert at its own cursor
      const at = area.selectionStart ?? area.value.length;
      area.setRangeText(text, at, area.selectionEnd ?? at, "end");
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }
    picker.value = "";
  };
  insert.addEventListener("click", put);
  picker.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      put();
    }
  });
  const tools = document.createElement("p");
  tools.className = "vtools";
  tools.append(picker, insert, list);
  area.closest(".field").append(tools, meter);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll('#editor textarea[name^="parts.sms."][name$=".body"], ' +
    '#editor textarea[name^="parts.chat."][name$=".body"]').forEach(meterFor);
});
