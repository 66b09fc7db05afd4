// Starts Swagger UI (served from our own origin) on the API description: a file, not an inline
// script, so the page keeps the strict Content-Security-Policy every page has.
"use strict";

window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    // Swagger UI would otherwise send the description to an outside validator for its badge.
    validatorUrl: null,
  });
});
