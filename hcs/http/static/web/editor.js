// The draft editor's template fields as code: CodeMirror 5 (vendored) highlights Jinja over the
// part's text, HTML or CSS, and marks the line a syntax or render error names. The text area
// stays the form's field: every change is saved into it and announced with an `input` event, so
// the form, the live preview (htmx) and the preview frames read it as before; without script the
// text area is the editor.
"use strict";

const BASE_MODES = { html: "htmlmixed", css: "css", text: "text/plain" };
const GUTTER = "problem-gutter";
const editors = new Map(); // text area id → its CodeMirror
const markedLines = new Map(); // text area id → the line handles it marked
let previewed = false; // once the live preview has answered, its findings are the current ones

// Jinja over another mode. CodeMirror's jinja2 mode also reads `#` as the start of a line
// statement, which the sandbox does not enable (and `#333` in CSS is none): outside a tag a `#`
// stays text.
CodeMirror.defineMode("hcs-jinja", (config, options) => {
  const jinja = CodeMirror.getMode(config, "jinja2");
  const overlay = {
    startState: () => jinja.startState(),
    token(stream, state) {
      if (!state.intag && !state.incomment && stream.peek() === "#") {
        stream.next();
        return null;
      }
      const style = jinja.token(stream, state);
      return style ? `jinja jinja-${style}` : null;
    },
  };
  return CodeMirror.overlayMode(CodeMirror.getMode(config, options.base), overlay);
});

function enhance(area) {
  const cm = CodeMirror.fromTextArea(area, {
    mode: { name: "hcs-jinja", base: BASE_MODES[area.dataset.code] || "text/plain" },
    lineNumbers: true,
    lineWrapping: true,
    viewportMargin: Infinity,
    gutters: [GUTTER, "CodeMirror-linenumbers"],
    indentUnit: 2,
    // Tab and Shift-Tab leave the field, as they leave a text area: nobody is trapped inside.
    // Indenting stays on Ctrl-] and Ctrl-[ (Cmd on a Mac), CodeMirror's own keys for it.
    extraKeys: { Tab: false, "Shift-Tab": false },
  });
  const input = cm.getInputField();
  input.setAttribute("aria-labelledby", `${area.id}-label`);
  const described = [area.getAttribute("aria-describedby"), `live-${area.id}`, "code-keys"];
  input.setAttribute("aria-describedby", described.filter(Boolean).join(" "));
  cm.on("change", () => {
    cm.save();
    area.dispatchEvent(new Event("input", { bubbles: true }));
  });
  // Content blocks (site.js) ask the field to insert; the code editor inserts at its own cursor.
  area.addEventListener("hcs:insert", (event) => {
    event.preventDefault();
    cm.replaceSelection(event.detail);
    cm.focus();
  });
  const label = document.getElementById(`${area.id}-label`);
  if (label) {
    label.addEventListener("click", () => cm.focus());
  }
  // An editor built inside a hidden tab measures nothing: measure again once it shows.
  let shown = false;
  new ResizeObserver(() => {
    const visible = cm.getWrapperElement().offsetWidth > 0;
    if (visible && !shown) {
      cm.refresh();
    }
    shown = visible;
  }).observe(cm.getWrapperElement());
  editors.set(area.id, cm);
}

// The messages that name a line of the field: those of the live preview once it has answered,
// until then the ones the page came with (a refused save).
function problemsOf(id, cm) {
  const where = previewed ? document.getElementById(`live-${id}`)
    : cm.getWrapperElement().closest(".field");
  const byLine = new Map();
  for (const found of where ? where.querySelectorAll("[data-line]") : []) {
    const line = Number(found.dataset.line) - 1;
    if (line >= 0 && line < cm.lineCount()) {
      byLine.set(line, [...(byLine.get(line) || []), found.textContent.trim()]);
    }
  }
  const invalid = previewed ? Boolean(where && where.textContent.trim())
    : document.getElementById(id).getAttribute("aria-invalid") === "true";
  return { byLine, invalid };
}

function marker(line, messages) {
  const mark = document.createElement("span");
  mark.className = "problem-marker";
  mark.textContent = "!";
  mark.title = messages.join("\n");
  mark.setAttribute("role", "img");
  mark.setAttribute("aria-label", `Line ${line + 1}: ${messages.join("; ")}`);
  return mark;
}

function markProblems() {
  for (const [id, cm] of editors) {
    const { byLine, invalid } = problemsOf(id, cm);
    cm.operation(() => {
      cm.clearGutter(GUTTER);
      for (const handle of markedLines.get(id) || []) {
        cm.removeLineClass(handle, "wrap", "line-problem");
      }
      const handles = [];
      for (const [line, messages] of byLine) {
        cm.setGutterMarker(line, GUTTER, marker(line, messages));
        handles.push(cm.addLineClass(line, "wrap", "line-problem"));
      }
      markedLines.set(id, handles);
    });
    cm.getWrapperElement().classList.toggle("has-problems", invalid);
    cm.getInputField().setAttribute("aria-invalid", String(invalid));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("#editor textarea[data-code]").forEach(enhance);
  const keys = document.getElementById("code-keys");
  if (keys && editors.size) {
    keys.hidden = false;
  }
  markProblems();
});

document.addEventListener("htmx:afterSettle", (event) => {
  if (event.detail.elt.id === "preview") {
    previewed = true;
    markProblems();
  }
});
