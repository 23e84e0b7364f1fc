// The compose box: segments, price and the characters forcing Unicode, as the user types.
function smsCompose(labels) {
  const body = document.getElementById("sms-body");
  if (!body) return;
  const counter = document.getElementById("sms-counter");
  const unicode = document.getElementById("sms-unicode");
  const replace = document.getElementById("sms-replace");
  const replaceButton = document.getElementById("sms-replace-button");
  let replacements = {};
  let timer = null;
  let sequence = 0;

  async function refresh() {
    const mine = ++sequence;
    const response = await fetch(body.dataset.previewUrl, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRFToken": labels.csrf},
      body: JSON.stringify({body: body.value}),
    });
    const data = await response.json();
    if (mine !== sequence) return;  // a newer keystroke answered already
    if (data.error) {
      counter.textContent = data.error.message;
      counter.classList.add("error");
      return;
    }
    counter.classList.remove("error");
    counter.textContent = `${data.segments} ${labels.segmentsLabel} · ${data.encoding} · ${data.units} · ${data.price} ${data.currency}`;
    unicode.hidden = data.unicode_characters.length === 0;
    unicode.textContent = `${labels.unicodeLabel} ${data.unicode_characters.join(" ")}`;
    replacements = data.replacements || {};
    replace.hidden = Object.keys(replacements).length === 0;
    counter.dataset.segments = data.segments;
  }

  body.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  });
  replaceButton.addEventListener("click", () => {
    let text = body.value;
    for (const [from, to] of Object.entries(replacements)) text = text.split(from).join(to);
    body.value = text;
    refresh();
  });
  if (body.value) refresh();
}
