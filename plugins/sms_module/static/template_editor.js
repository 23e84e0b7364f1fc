// The message template editor (issue 12 point 9): the live preview of compose.js, which says
// why a text is invalid instead of keeping the last valid preview, and the "Insert a variable"
// control, which writes {{ name }} at the cursor. The labels come from the form's data-*.
(function () {
  const form = document.getElementById("template-form");
  const body = document.getElementById("template-body");
  if (!form || !body) return;
  smsPreview({
    body: "template-body", counter: "template-counter", unicode: "template-unicode",
    shown: "template-preview", invalid: "template-preview-error",
    unicodeLabel: form.dataset.unicodeLabel,
    invalidLabel: form.dataset.invalidLabel,
    csrf: form.elements.csrf_token.value,
  });

  const control = document.getElementById("template-insert");
  const choice = document.getElementById("template-insert-variable");
  const button = document.getElementById("template-insert-button");
  if (!control || !choice || !button) return;
  control.hidden = false;
  button.addEventListener("click", () => {
    if (!choice.value) {
      choice.focus();
      return;
    }
    // Where the cursor is (or over the selected text), then the cursor after it.
    body.setRangeText(`{{ ${choice.value} }}`, body.selectionStart, body.selectionEnd, "end");
    body.focus();
    body.dispatchEvent(new Event("input", {bubbles: true}));  // the preview follows
    choice.value = "";
  });
})();
