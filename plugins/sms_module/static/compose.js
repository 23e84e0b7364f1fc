// The live count of a text being written: segments, characters, price (the preview's
// "summary", in the reader's language and number format), the characters that force
// Unicode and, where the page offers it, plain replacements for look-alikes and the
// rendered text (message templates). Used by the compose box and the template editor. With
// ``invalid`` (an element id) an invalid text hides the rendered text and says why there
// ("invalidLabel" then the server's sentence), never the last valid text (issue 12 point 9).
function smsPreview(options) {
  const element = (id) => (id ? document.getElementById(id) : null);
  const body = element(options.body);
  if (!body) return;
  const counter = element(options.counter);
  const unicode = element(options.unicode);
  const replace = element(options.replace);
  const replaceButton = element(options.replaceButton);
  const shown = element(options.shown);
  const invalid = element(options.invalid);
  let replacements = {};
  let timer = null;
  let sequence = 0;

  async function refresh() {
    const mine = ++sequence;
    const response = await fetch(body.dataset.previewUrl, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRFToken": options.csrf},
      body: JSON.stringify({body: body.value}),
    });
    const data = await response.json();
    if (mine !== sequence) return;  // a newer keystroke answered already
    if (data.error) {
      if (shown) shown.textContent = "";  // the last valid text would be a lie now
      if (invalid) {
        invalid.textContent = `${options.invalidLabel} ${data.error.message}`;
        invalid.hidden = false;
        if (shown) shown.hidden = true;
        counter.textContent = "";
        delete counter.dataset.segments;
        unicode.hidden = true;
        return;
      }
      counter.textContent = data.error.message;
      counter.classList.add("error");
      return;
    }
    if (invalid) invalid.hidden = true;
    if (shown) shown.hidden = false;
    counter.classList.remove("error");
    // The server's line in the reader's language: "1 segment · 42 caractères · 0,0100 $".
    counter.textContent = data.summary;
    counter.dataset.segments = data.segments;
    unicode.hidden = data.unicode_characters.length === 0;
    unicode.textContent = `${options.unicodeLabel} ${data.unicode_characters.join(" ")}`;
    if (shown && data.text !== undefined) shown.textContent = data.text;
    if (replace) {
      replacements = data.replacements || {};
      replace.hidden = Object.keys(replacements).length === 0;
    }
  }

  body.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  });
  if (replaceButton) {
    replaceButton.addEventListener("click", () => {
      let text = body.value;
      for (const [from, to] of Object.entries(replacements)) text = text.split(from).join(to);
      body.value = text;
      refresh();
    });
  }
  // A text already there is counted at once, in the server's words (refreshNow: false to
  // keep the line the page came with).
  if (body.value && options.refreshNow !== false) refresh();
}
