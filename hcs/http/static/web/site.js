// The editor's small amount of script: the CSRF header for htmx, tabs, and the preview frames.
// Loaded as a static file: the pages' Content-Security-Policy allows no inline script.
"use strict";

document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRFToken"] = meta.content;
  }
});

// htmx swaps no 4xx or 5xx answer: say what was refused (the server's own words when it sent its
// refusal) in the page's alert. A request that needs a sign-in never gets here: its answer's
// HX-Redirect header takes the whole page to the sign-in form.
function showRefusal(text) {
  const alert = document.getElementById("request-error");
  if (alert && alert.textContent !== text) {
    alert.textContent = text; // a poll repeating the same refusal is not announced again
    alert.hidden = false;
  }
}

document.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  const sent = new DOMParser().parseFromString(xhr.responseText, "text/html");
  const message = sent.getElementById("page-error");
  showRefusal(message ? message.textContent.trim()
    : `The server could not do this (${xhr.status} ${xhr.statusText}). Reload the page and try again.`);
});

document.addEventListener("htmx:sendError", () => {
  showRefusal("The server could not be reached. Check the connection, then reload the page.");
});

document.addEventListener("htmx:afterRequest", (event) => {
  const alert = document.getElementById("request-error");
  if (alert && event.detail.successful) {
    alert.hidden = true; // the next request went through: the refusal no longer holds
    alert.textContent = "";
  }
});

// Emails and letters render in sandboxed frames served with their own, stricter policy: the
// editor's unsaved form is posted into each frame (a srcdoc frame would inherit this page's
// policy, which refuses the inline styles every email carries).
function fillFrames(root) {
  const editor = document.getElementById("editor");
  if (!editor) {
    return;
  }
  root.querySelectorAll("iframe[data-frame-url]").forEach((frame) => {
    const post = document.createElement("form");
    post.method = "post";
    post.action = frame.dataset.frameUrl;
    post.target = frame.name;
    post.hidden = true;
    for (const [name, value] of new FormData(editor)) {
      const field = document.createElement("textarea");
      field.name = name;
      field.value = value;
      post.appendChild(field);
    }
    document.body.appendChild(post);
    post.submit();
    setTimeout(() => post.remove(), 2000);
  });
}

document.addEventListener("htmx:afterSettle", (event) => fillFrames(event.detail.elt));

// Tabs: without script every panel shows; with it, one at a time, arrow keys move between tabs.
function selectTab(tab) {
  const list = tab.closest('[role="tablist"]');
  list.querySelectorAll('[role="tab"]').forEach((other) => {
    const chosen = other === tab;
    other.setAttribute("aria-selected", String(chosen));
    other.tabIndex = chosen ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")).hidden = !chosen;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll('[role="tablist"]').forEach((list) => {
    const tabs = Array.from(list.querySelectorAll('[role="tab"]'));
    tabs.forEach((tab, index) => {
      tab.addEventListener("click", () => selectTab(tab));
      tab.addEventListener("keydown", (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (step) {
          const next = tabs[(index + step + tabs.length) % tabs.length];
          selectTab(next);
          next.focus();
        }
      });
    });
    const invalid = list.parentElement.querySelector('[aria-invalid="true"]');
    const start = invalid ? tabs.find((t) => t.getAttribute("aria-controls") ===
      invalid.closest('[role="tabpanel"]').id) : tabs[0];
    if (start) {
      selectTab(start);
    }
  });
  // Every script's DOMContentLoaded work has run once this fires: the page is interactive (a
  // click before then finds no handler, and the first tab's selection would undo a tab chosen).
  setTimeout(() => { document.documentElement.dataset.ready = "true"; }, 0);
});

// Email previews at desktop or mobile width. The live preview is swapped in afresh as the
// author types: the width chosen for each preview (by its section's id) is applied again.
const previewWidths = new Map();

function showWidth(section, width) {
  const frame = section.querySelector("iframe");
  if (frame) {
    frame.classList.toggle("width-mobile", width === "mobile");
    frame.classList.toggle("width-desktop", width === "desktop");
  }
  section.querySelectorAll("button[data-width]").forEach((other) => {
    other.setAttribute("aria-pressed", String(other.dataset.width === width));
  });
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-width]");
  if (!button) {
    return;
  }
  const section = button.closest("section");
  if (section.id) {
    previewWidths.set(section.id, button.dataset.width);
  }
  showWidth(section, button.dataset.width);
});
document.addEventListener("htmx:afterSwap", () => {
  for (const [id, width] of previewWidths) {
    const section = document.getElementById(id);
    if (section) {
      showWidth(section, width);
    }
  }
});

// Content blocks: insert `{{ block('key') }}` where the author's cursor was, then re-preview.
// A field's code editor (editor.js) has an input of its own: focus in a field means that field.
let lastField = null;
document.addEventListener("focusin", (event) => {
  const field = event.target.closest("#editor .field");
  const area = field && field.querySelector("textarea[name]");
  if (area) {
    lastField = area;
  }
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-insert]");
  if (!button) {
    return;
  }
  const field = lastField || document.querySelector('#editor [role="tabpanel"]:not([hidden]) textarea[name]');
  if (!field) {
    return;
  }
  const ask = new CustomEvent("hcs:insert", { cancelable: true, detail: button.dataset.insert });
  if (!field.dispatchEvent(ask)) {
    return; // a code editor over the field inserted it at its own cursor
  }
  const at = field.selectionStart ?? field.value.length;
  field.setRangeText(button.dataset.insert, at, field.selectionEnd ?? at, "end");
  field.dispatchEvent(new Event("input", { bubbles: true }));
  field.focus();
});
