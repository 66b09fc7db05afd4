// The visual email editor: an email part as a document of blocks, edited by clicking and typing.
// The document lives as JSON in the part's text area (`parts.email.<locale>.blocks`), which the
// form posts and the live preview renders; the server checks it and compiles the HTML and text.
// Typed text is only ever text: variables are chips, so nothing typed becomes template code.
// Plain script, no build step; the page's policy allows no inline script or style.
"use strict";

const KINDS = {
  heading: "Heading",
  paragraph: "Paragraph",
  button: "Button",
  image: "Image",
  divider: "Divider",
  spacer: "Spacer",
  columns: "Two columns",
  list: "List",
  content: "Content block",
  if: "Shown only if",
  repeat: "Repeated for each",
};
const NESTED = { columns: ["left", "right"], if: ["blocks", "otherwise"], repeat: ["blocks"] };
const NESTED_LABELS = { left: "Left column", right: "Right column", blocks: "Inside",
  otherwise: "Otherwise (when it is not set)" };
const ONE_WAY = "Convert this email to HTML code?\n\nThis is one way: the visual design is " +
  "dropped and from now on you edit the HTML by hand. You cannot go back to the visual editor " +
  "for this part (an earlier version keeps its design).";
const START_VISUAL = "Design this email with the visual editor?\n\nThe visual editor does not " +
  "read HTML: it starts from a simple design, and the HTML written here is replaced when you save.";

let pickerCount = 0;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key.startsWith("aria-") || key === "role" || key === "for" || key === "list") {
      node.setAttribute(key, value);
    } else {
      node[key] = value;
    }
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function button(text, onClick, props = {}) {
  const made = el("button", { type: "button", className: "secondary", textContent: text, ...props });
  // keep the selection in the text being edited: formatting and chips apply to it
  made.addEventListener("mousedown", (event) => event.preventDefault());
  made.addEventListener("click", onClick);
  return made;
}

// A question asked in the page, in a modal <dialog>, rather than with window.confirm: Chromium
// closes a browser dialog as "Cancel" when a frame of the page loads a document, and the live
// preview posts the form into its frames after every refresh, so a confirm() opened just then
// vanished and the author's click did nothing. Escape or Cancel answers no.
let askCount = 0;

function ask(message, yes) {
  const [question, ...more] = message.split("\n\n");
  const id = `visual-ask-${++askCount}`;
  const dialog = el("dialog", { className: "visual-ask", "aria-labelledby": id },
    el("p", { id, className: "visual-ask-question", textContent: question }),
    ...more.map((text) => el("p", { textContent: text })));
  return new Promise((resolve) => {
    const answer = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      answer(false);
    });
    const cancel = button("Cancel", () => answer(false));
    dialog.append(el("p", { className: "visual-ask-answers" },
      button(yes, () => answer(true), { className: "" }), " ", cancel));
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus(); // the safe answer is the one Enter gives
  });
}

// ---- inline text: runs <-> an editable element ------------------------------------------

function chip(name, filter) {
  return el("span", {
    className: "chip",
    contentEditable: "false",
    dataset: filter ? { var: name, filter } : { var: name },
    textContent: filter ? `${name} · ${filter}` : name,
    title: `Variable ${name}: replaced by its value when the email is sent`,
  });
}

function runsToDom(runs, target) {
  target.textContent = "";
  for (const run of runs) {
    let node;
    if (run.var) {
      node = chip(run.var, run.filter);
    } else {
      node = document.createDocumentFragment();
      run.text.split("\n").forEach((line, index) => {
        if (index) {
          node.appendChild(el("br"));
        }
        if (line) {
          node.appendChild(document.createTextNode(line));
        }
      });
    }
    if (run.italic) {
      node = el("em", {}, node);
    }
    if (run.bold) {
      node = el("strong", {}, node);
    }
    if (run.link || run.link_var) {
      const link = el("a", {}, node);
      link.setAttribute("href", run.link || `{{ ${run.link_var} }}`);
      node = link;
    }
    target.appendChild(node);
  }
}

const VARIABLE_LINK = /^\{\{\s*([A-Za-z][\w.]*)\s*\}\}$/;

function withMarks(run, marks) {
  if (marks.bold) {
    run.bold = true;
  }
  if (marks.italic) {
    run.italic = true;
  }
  if (marks.link) {
    const variable = VARIABLE_LINK.exec(marks.link);
    if (variable) {
      run.link_var = variable[1];
    } else {
      run.link = marks.link;
    }
  }
  return run;
}

function sameMarks(a, b) {
  return ["bold", "italic", "link", "link_var"].every((key) => a[key] === b[key]);
}

function domToRuns(root) {
  const runs = [];
  const push = (run, marks) => {
    const marked = withMarks(run, marks);
    const last = runs[runs.length - 1];
    if ("text" in marked && last && "text" in last && sameMarks(last, marked)) {
      last.text += marked.text;
    } else {
      runs.push(marked);
    }
  };
  const walk = (node, marks) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        push({ text: child.data.replace(/\u00a0/g, " ") }, marks);
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        const tag = child.tagName;
        if (child.dataset.var) {
          const run = { var: child.dataset.var };
          if (child.dataset.filter) {
            run.filter = child.dataset.filter;
          }
          push(run, marks);
          continue;
        }
        if (tag === "BR") {
          push({ text: "\n" }, marks);
          continue;
        }
        const inner = { ...marks };
        if (tag === "B" || tag === "STRONG") {
          inner.bold = true;
        }
        if (tag === "I" || tag === "EM") {
          inner.italic = true;
        }
        if (tag === "A" && child.getAttribute("href")) {
          inner.link = child.getAttribute("href");
        }
        if ((tag === "DIV" || tag === "P") && runs.length) {
          push({ text: "\n" }, {}); // Chromium puts a new line in a block of its own
        }
        walk(child, inner);
      }
    }
  };
  walk(root, {});
  const last = runs[runs.length - 1];
  if (last && "text" in last) {
    last.text = last.text.replace(/\n$/, ""); // the line break an editable keeps at its end
  }
  const kept = runs.filter((run) => !("text" in run) || run.text !== "");
  return kept.length ? kept : [{ text: "" }];
}

// ---- the editor of one part ---------------------------------------------------------------

class VisualPart {
  constructor(holder) {
    this.holder = holder;
    this.source = document.getElementById(holder.dataset.for);
    this.panel = holder.closest('[role="tabpanel"]');
    this.blockKeys = JSON.parse(holder.dataset.blocks || "[]");
    this.savedVariables = JSON.parse(holder.dataset.variables || "[]");
    this.slots = JSON.parse(holder.dataset.slots || "[]");
    this.ranges = new WeakMap(); // each editable's last selection, for chips and links
    this.doc = null;
    this.ui = el("div", { className: "visual-editor" });
    this.modeBar = el("p", { className: "visual-mode" });
    holder.prepend(this.modeBar, this.ui);
    for (const hidden of holder.querySelectorAll("label, .visual-source, .hint, .visual-json, .visual-form-link")) {
      hidden.hidden = true;
    }
    this.datalist = el("datalist", { id: `visual-variables-${++pickerCount}` });
    holder.append(this.datalist);
    this.source.addEventListener("hcs:insert", (event) => this.insertContentBlock(event));
    document.addEventListener("selectionchange", () => this.rememberSelection());
    document.addEventListener("htmx:afterSettle", () => this.markProblems());
    const text = this.source.value.trim();
    if (text) {
      try {
        this.doc = JSON.parse(text);
        if (!this.doc || !Array.isArray(this.doc.blocks)) {
          throw new Error("not a design");
        }
      } catch (error) {
        this.doc = null; // unreadable: the text area shows, with the server's message
        this.source.hidden = false;
        holder.querySelector("label").hidden = false;
        const json = holder.querySelector(".visual-json");
        if (json) {
          json.hidden = false;
          json.open = true;
        }
        return;
      }
    }
    this.render();
  }

  codeFields() {
    return ["html", "text"].map((field) =>
      this.panel.querySelector(`textarea[name$=".${this.holder.dataset.locale}.${field}"]`))
      .filter(Boolean);
  }

  showCode(shown) {
    for (const area of this.codeFields()) {
      area.closest(".field").hidden = !shown;
      area.disabled = !shown; // compiled on the server from the design: never posted
    }
  }

  render() {
    this.modeBar.textContent = "";
    this.ui.textContent = "";
    if (!this.doc) {
      this.showCode(true);
      this.modeBar.append("Edited as HTML code. ",
        button("Use the visual editor…", () => this.startVisual(), { className: "secondary to-visual" }));
      return;
    }
    this.showCode(false);
    this.modeBar.append(el("strong", { textContent: "Visual editor. " }),
      "Click a block to edit it; the preview shows the result. ",
      button("Convert to HTML code…", () => this.toCode(), { className: "secondary to-code" }));
    this.refreshVariables();
    this.ui.append(this.blockList(this.doc.blocks, "blocks", "the email"));
  }

  sync() {
    this.source.value = this.doc ? JSON.stringify(this.doc) : "";
    this.source.dispatchEvent(new Event("input", { bubbles: true }));
  }

  changed() {
    this.sync();
    this.render();
  }

  async startVisual() {
    const html = this.codeFields().find((a) => a.name.endsWith(".html"));
    if (html && html.value.trim() && !(await ask(START_VISUAL, "Use the visual editor"))) {
      return;
    }
    const first = this.variableNames()[0];
    this.doc = { version: 1, blocks: [
      { type: "heading", level: 1, text: first ? [{ text: "Hello " }, { var: first }] : [{ text: "Hello" }] },
      { type: "paragraph", text: [{ text: "Write your message here." }] },
    ] };
    this.changed();
  }

  async toCode() {
    if (!(await ask(ONE_WAY, "Convert to HTML code"))) {
      return;
    }
    const form = new FormData();
    form.append("document", JSON.stringify(this.doc));
    const meta = document.querySelector('meta[name="csrf-token"]');
    const answer = await fetch(this.holder.dataset.compileUrl, {
      method: "POST", body: form, headers: meta ? { "X-CSRFToken": meta.content } : {},
      credentials: "same-origin",
    });
    const body = await answer.json().catch(() => ({}));
    if (!answer.ok) {
      const errors = Object.entries(body.errors || {}).map(([k, v]) => `${k}: ${v.join("; ")}`);
      this.status(`The design cannot be converted yet: ${errors.join(" · ") || answer.status}`);
      return;
    }
    for (const area of this.codeFields()) {
      area.value = area.name.endsWith(".html") ? body.html : body.text;
      const code = area.nextElementSibling && area.nextElementSibling.CodeMirror;
      if (code) {
        code.setValue(area.value); // a code editor started over it this visit keeps its own text
      }
    }
    this.doc = null;
    this.changed();
    this.status("Converted to HTML code: save to keep it.");
  }

  status(text) {
    const live = document.getElementById(`live-${this.source.id}`);
    if (live) {
      live.textContent = text;
    }
  }

  // ---- variables ----

  variableNames() {
    let declared = this.savedVariables;
    const typed = document.querySelector('#editor textarea[name="variables"]');
    if (typed) {
      try {
        const parsed = JSON.parse(typed.value);
        if (Array.isArray(parsed)) {
          declared = parsed;
        }
      } catch (error) {
        // being typed: the saved declarations stand in
      }
    }
    const names = declared.filter((v) => v && typeof v.name === "string").map((v) => v.name);
    for (const input of document.querySelectorAll('#editor input[name^="variables"][name$="name"]')) {
      if (input.value.trim()) {
        names.push(input.value.trim()); // a variables form, where there is one
      }
    }
    return [...new Set([...names, ...this.slots])];
  }

  listVariables() {
    const lists = this.savedVariables.filter((v) => v.type === "list").map((v) => v.name);
    return lists.length ? lists : this.variableNames();
  }

  refreshVariables() {
    this.datalist.textContent = "";
    const names = [...this.variableNames(), "brand.company_name", "brand.support_email",
      ...this.loopNames(this.doc.blocks)];
    for (const name of names) {
      this.datalist.append(el("option", { value: name }));
    }
  }

  loopNames(blocks) {
    const names = [];
    for (const block of blocks) {
      if (block.type === "repeat") {
        names.push(block.as || "item");
      }
      for (const key of NESTED[block.type] || []) {
        names.push(...this.loopNames(block[key] || []));
      }
    }
    return names;
  }

  // ---- blocks ----

  blockList(blocks, path, where) {
    const list = el("div", { className: "vblocks" });
    if (blocks.length) { // an empty list would be a list of nothing
      list.setAttribute("role", "list");
      list.setAttribute("aria-label", `Blocks of ${where}`);
    }
    const cards = el("div", { className: "vblocks-wrap" }, list);
    blocks.forEach((block, index) => list.append(this.card(blocks, index, `${path}.${index}`)));
    const kind = el("select", { "aria-label": `Block to add to ${where}` },
      ...Object.entries(KINDS).map(([value, label]) => el("option", { value, textContent: label })));
    cards.append(el("p", { className: "vadd" }, kind,
      button("Add block", () => {
        blocks.push(this.fresh(kind.value));
        this.changed();
      }, { "aria-label": `Add block to ${where}` })));
    return cards;
  }

  card(blocks, index, path) {
    const block = blocks[index];
    const label = KINDS[block.type] || block.type;
    const title = `${label}, block ${index + 1} of ${blocks.length}`;
    const move = (step) => () => {
      const to = index + step;
      if (to >= 0 && to < blocks.length) {
        [blocks[index], blocks[to]] = [blocks[to], blocks[index]];
        this.changed();
      }
    };
    const card = el("section", { className: "vblock", role: "listitem", "aria-label": title,
      dataset: { path, kind: block.type } });
    card.append(el("header", {}, el("span", { className: "vkind", textContent: label }),
      button("↑", move(-1), { "aria-label": `Move ${title} up`, disabled: index === 0 }),
      button("↓", move(1), { "aria-label": `Move ${title} down`, disabled: index === blocks.length - 1 }),
      button("Remove", () => {
        blocks.splice(index, 1);
        this.changed();
      }, { "aria-label": `Remove ${title}` })));
    card.append(this.body(block, path, title));
    return card;
  }

  fresh(kind) {
    const first = this.variableNames()[0] || "name";
    const paragraph = () => ({ type: "paragraph", text: [{ text: "Write something." }] });
    const made = {
      heading: () => ({ type: "heading", level: 2, text: [{ text: "A heading" }] }),
      paragraph,
      button: () => ({ type: "button", label: [{ text: "Find out more" }], url: "https://www.example.com/" }),
      image: () => ({ type: "image", src: "https://", alt: "" }),
      divider: () => ({ type: "divider" }),
      spacer: () => ({ type: "spacer", height: 24 }),
      columns: () => ({ type: "columns", left: [paragraph()], right: [paragraph()] }),
      list: () => ({ type: "list", ordered: false, items: [[{ text: "First" }], [{ text: "Second" }]] }),
      content: () => ({ type: "content", key: this.blockKeys[0] || "footer" }),
      if: () => ({ type: "if", variable: first, blocks: [paragraph()] }),
      repeat: () => ({ type: "repeat", variable: this.listVariables()[0] || first, as: "item",
        blocks: [paragraph()] }),
    };
    return made[kind]();
  }

  body(block, path, title) {
    const body = el("div", { className: "vbody" });
    const set = (key, value) => {
      if (value === "" || value === undefined) {
        delete block[key];
      } else {
        block[key] = value;
      }
      this.sync();
    };
    switch (block.type) {
      case "heading":
        body.append(this.choice("Level", String(block.level || 1), ["1", "2", "3"],
          (v) => set("level", Number(v)), title));
        body.append(this.editable(block, "text", `${title}: text`, { heading: true }));
        break;
      case "paragraph":
        body.append(this.editable(block, "text", `${title}: text`));
        break;
      case "button":
        body.append(this.editable(block, "label", `${title}: label`, { single: true, noLinks: true }));
        body.append(this.target(block, "url", "url_var", `${title}: link address`, set));
        break;
      case "image":
        body.append(this.input("Image address (https://…)", block.src || "", (v) => set("src", v), title));
        body.append(this.input("Alt text (what the image shows)", block.alt || "", (v) => set("alt", v), title));
        body.append(this.input("Width in pixels (optional)", block.width ? String(block.width) : "",
          (v) => set("width", v ? Number(v) : undefined), title, "number"));
        break;
      case "spacer":
        body.append(this.input("Height in pixels", String(block.height || 24),
          (v) => set("height", Number(v)), title, "number"));
        break;
      case "list":
        body.append(this.choice("Style", block.ordered ? "numbered" : "bullets", ["bullets", "numbered"],
          (v) => set("ordered", v === "numbered"), title));
        block.items.forEach((item, i) => {
          const holder = { text: item };
          const editor = this.editable(holder, "text", `${title}: item ${i + 1}`, {
            onChange: () => { block.items[i] = holder.text; } });
          body.append(el("div", { className: "vitem" }, editor,
            button("Remove item", () => {
              block.items.splice(i, 1);
              this.changed();
            }, { "aria-label": `Remove item ${i + 1} of ${title}`, disabled: block.items.length < 2 })));
        });
        body.append(button("Add item", () => {
          block.items.push([{ text: "" }]);
          this.changed();
        }, { "aria-label": `Add item to ${title}` }));
        break;
      case "content":
        body.append(this.choice("Content block", block.key,
          [...new Set([block.key, ...this.blockKeys])], (v) => set("key", v), title));
        break;
      case "if":
        body.append(this.input("Show when this variable is set", block.variable,
          (v) => set("variable", v), title, "text", true));
        break;
      case "repeat":
        body.append(this.input("For each item of the list variable", block.variable,
          (v) => set("variable", v), title, "text", true));
        body.append(this.input("Call each item", block.as || "item", (v) => set("as", v), title));
        break;
      default:
        break;
    }
    for (const key of NESTED[block.type] || []) {
      if (key === "otherwise" && !block.otherwise) {
        body.append(button("Add an otherwise section", () => {
          block.otherwise = [this.fresh("paragraph")];
          this.changed();
        }, { "aria-label": `Add an otherwise section to ${title}` }));
        continue;
      }
      const where = `${NESTED_LABELS[key].toLowerCase()} of ${title}`;
      body.append(el("div", { className: `vnested vnested-${key}` },
        el("p", { className: "vnested-label", textContent: NESTED_LABELS[key] }),
        this.blockList(block[key], `${path}.${key}`, where)));
    }
    return body;
  }

  input(label, value, onChange, title, type = "text", variables = false) {
    const id = `vi-${++pickerCount}`;
    const field = el("input", { id, type, value, "aria-label": `${title}: ${label}` });
    if (variables) {
      field.setAttribute("list", this.datalist.id);
    }
    field.addEventListener("input", () => onChange(field.value.trim()));
    return el("p", { className: "vfield" }, el("label", { for: id, textContent: label }), field);
  }

  choice(label, value, options, onChange, title) {
    const id = `vs-${++pickerCount}`;
    const select = el("select", { id, "aria-label": `${title}: ${label}` },
      ...options.map((o) => el("option", { value: o, textContent: o, selected: o === value })));
    select.addEventListener("change", () => onChange(select.value));
    return el("p", { className: "vfield" }, el("label", { for: id, textContent: label }), select);
  }

  target(block, key, varKey, label, set) {
    const id = `vt-${++pickerCount}`;
    const value = block[varKey] ? `{{ ${block[varKey]} }}` : block[key] || "";
    const field = el("input", { id, type: "text", value, "aria-label": label });
    field.setAttribute("list", this.datalist.id);
    field.addEventListener("input", () => {
      const variable = VARIABLE_LINK.exec(field.value.trim()) || /^([A-Za-z]\w*)$/.exec(field.value.trim());
      delete block[key];
      delete block[varKey];
      set(variable ? varKey : key, variable ? variable[1] : field.value.trim());
    });
    return el("p", { className: "vfield" },
      el("label", { for: id, textContent: "Link address (https://…) or a variable such as {{ tracking_url }}" }),
      field);
  }

  // ---- inline text with bold, italic, links and variable chips ----

  editable(block, key, label, options = {}) {
    const area = el("div", { className: options.heading ? "vtext vheading" : "vtext",
      contentEditable: "true", role: "textbox", "aria-label": label,
      "aria-multiline": options.single ? "false" : "true" });
    runsToDom(block[key], area);
    const update = () => {
      block[key] = domToRuns(area);
      if (options.noLinks) {
        block[key].forEach((run) => { delete run.link; delete run.link_var; });
      }
      if (options.onChange) {
        options.onChange();
      }
      this.sync();
    };
    area.addEventListener("input", update);
    // The caret as typing left it: `selectionchange` comes a moment later, and a variable
    // inserted before it came went where the caret had been before the last words.
    area.addEventListener("input", () => this.rememberSelection());
    area.addEventListener("blur", () => this.rememberSelection());
    area.addEventListener("paste", (event) => {
      event.preventDefault(); // pasted text arrives as text, never as someone else's HTML
      document.execCommand("insertText", false, event.clipboardData.getData("text/plain"));
    });
    area.addEventListener("keydown", (event) => {
      if (options.single && event.key === "Enter") {
        event.preventDefault();
      }
    });
    const tools = el("div", { className: "vtools", role: "toolbar", "aria-label": `${label}: formatting` });
    const command = (name, arg) => () => {
      this.restore(area);
      document.execCommand(name, false, arg);
      update();
    };
    tools.append(button("B", command("bold"), { "aria-label": "Bold", className: "secondary vbold" }),
      button("I", command("italic"), { "aria-label": "Italic", className: "secondary vitalic" }));
    if (!options.noLinks) {
      tools.append(button("Link", () => {
        const address = window.prompt("Link address (https://…, mailto:…) or a variable such as {{ tracking_url }}");
        if (address) {
          command("createLink", address.trim())();
        }
      }, { "aria-label": `Link the selected words of ${label}` }));
    }
    const id = `vp-${++pickerCount}`;
    const picker = el("input", { id, type: "text", className: "vpicker", placeholder: "variable",
      "aria-label": `Variable to insert into ${label}` });
    picker.setAttribute("list", this.datalist.id);
    const insert = () => {
      const name = picker.value.trim();
      if (!name) {
        picker.focus();
        return;
      }
      this.insertChip(area, name);
      picker.value = "";
      update();
    };
    picker.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        insert();
      }
    });
    tools.append(picker, button("Insert variable", insert, { "aria-label": `Insert variable into ${label}` }));
    return el("div", { className: "vtext-field" }, tools, area);
  }

  rememberSelection() {
    const selection = document.getSelection();
    if (!selection || !selection.rangeCount) {
      return;
    }
    const range = selection.getRangeAt(0);
    const node = range.startContainer;
    const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    const area = element && element.closest(".vtext");
    if (area && this.ui.contains(area)) {
      this.ranges.set(area, range.cloneRange());
    }
  }

  restore(area) {
    const range = this.ranges.get(area);
    const selection = document.getSelection();
    if (range && area.contains(range.startContainer)) {
      selection.removeAllRanges();
      selection.addRange(range);
    } else if (!area.contains(selection.anchorNode)) {
      const end = document.createRange();
      end.selectNodeContents(area);
      end.collapse(false);
      selection.removeAllRanges();
      selection.addRange(end);
    }
  }

  insertChip(area, name) {
    const range = this.ranges.get(area);
    const made = chip(name);
    if (range && area.contains(range.startContainer)) {
      range.deleteContents();
      range.insertNode(made);
      range.setStartAfter(made);
      range.collapse(true);
      this.ranges.set(area, range);
    } else {
      area.append(made);
    }
    made.after(document.createTextNode(" "));
  }

  insertContentBlock(event) {
    // "Insert footer" (the content blocks list) in a visual part adds a content block instead
    event.preventDefault();
    const key = /block\('([^']+)'\)/.exec(event.detail);
    if (!this.doc) { // edited as code: the HTML field takes it, at its own cursor
      const html = this.codeFields().find((a) => a.name.endsWith(".html"));
      const ask = new CustomEvent("hcs:insert", { cancelable: true, detail: event.detail });
      if (html && html.dispatchEvent(ask)) {
        html.setRangeText(event.detail, html.selectionStart, html.selectionEnd, "end");
        html.dispatchEvent(new Event("input", { bubbles: true }));
      }
    } else if (key) {
      this.doc.blocks.push({ type: "content", key: key[1] });
      this.changed();
    }
  }

  // The live preview names each problem's block (`blocks.2.url: ...`): mark that block.
  markProblems() {
    const live = document.getElementById(`live-${this.source.id}`);
    const messages = live ? [...live.querySelectorAll("span")].map((s) => s.textContent.trim()) : [];
    for (const card of this.ui.querySelectorAll(".vblock")) {
      const path = card.dataset.path;
      const mine = messages.some((m) => m.startsWith(`${path}.`) || m.startsWith(`${path}:`));
      card.classList.toggle("has-problem", mine);
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".visual-part[data-for]").forEach((holder) => new VisualPart(holder));
});
