// No lost work. A form marked `data-guard` (the editors) remembers it was changed: leaving the
// page before saving asks first (the browser's own beforeunload prompt), and so does sending
// another form of the page (Add a locale, Send a test), with a message that says why. Buttons
// with `data-confirm` ask before an action that cannot be undone (retire, reject, publish).
"use strict";

let unsaved = false;
let leaving = false; // the person already said yes to leaving: do not ask twice

const UNSAVED = "You have changes that are not saved. Leave this page and lose them?";

document.addEventListener("input", (event) => {
  if (event.target.closest && event.target.closest("form[data-guard]")) {
    unsaved = true;
  }
});

document.addEventListener("change", (event) => {
  const form = event.target.form || (event.target.closest && event.target.closest("form"));
  if (form && form.matches("[data-guard]")) {
    unsaved = true;
  }
});

document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  if (event.target.matches("[data-guard]")) {
    leaving = true; // saving: what was typed goes with the form
  } else if (unsaved && !event.target.closest("[data-no-guard]")) {
    if (window.confirm(UNSAVED)) {
      leaving = true;
    } else {
      event.preventDefault();
    }
  }
});

window.addEventListener("beforeunload", (event) => {
  if (unsaved && !leaving) {
    event.preventDefault();
    event.returnValue = ""; // older browsers need it set to show their prompt
  }
});

// A navigation that was cancelled (the prompt answered "stay") leaves the page as it was.
window.addEventListener("pageshow", () => {
  leaving = false;
});
