// Confirmation before a destructive click (issue 12, point 8): any form with a
// data-confirm="question" attribute, or submitted by a button that has one, asks
// window.confirm(question) first; "Cancel" sends nothing. A form that also has
// data-confirm-when="field=value" asks only when its field holds that value (an
// appointment form whose status is set to cancelled). One listener for the whole page,
// so forms added later are covered too (no inline handler: the Content-Security-Policy
// allows this site's scripts only).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const button = event.submitter;
  const question =
    (button && button.dataset && button.dataset.confirm) ||
    (form instanceof HTMLFormElement ? form.dataset.confirm : undefined);
  const when = form instanceof HTMLFormElement ? form.dataset.confirmWhen : undefined;
  if (when) {
    const [name, value] = when.split("=");
    const field = form.elements.namedItem(name);
    if (!field || field.value !== value) return;
  }
  if (question && !window.confirm(question)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
