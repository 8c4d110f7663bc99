// Small page helpers that need no library: "Copy" buttons copy the text of the element they name.
document.addEventListener('click', (ev) => {
  const btn = ev.target instanceof Element ? ev.target.closest('button[data-copy]') : null;
  if (!btn) return;
  const src = document.querySelector(btn.getAttribute('data-copy'));
  if (!src) return;
  const say = (text) => { btn.textContent = text; setTimeout(() => (btn.textContent = 'Copy'), 2500); };
  // Browsers give a page served over plain HTTP from an address other than localhost no clipboard
  // (the console on a LAN): select the text for the user to copy instead of doing nothing.
  const select = () => { const r = document.createRange(); r.selectNodeContents(src); const s = getSelection(); s.removeAllRanges(); s.addRange(r); say('Selected: press Ctrl+C'); };
  if (!navigator.clipboard) return select();
  navigator.clipboard.writeText(src.textContent).then(() => say('Copied'), select);
});
// A new live row replaces the "no requests yet" line.
document.addEventListener('htmx:sseMessage', () => document.getElementById('journal-empty')?.remove());
// The stream ended because the session did (sign-out, a revoked key, expiry): the list is not live any more.
document.addEventListener('htmx:sseClose', (ev) => {
  if (ev.detail?.type !== 'message') return;
  const live = document.getElementById('live-status');
  if (live) live.textContent = 'Signed out: this list is no longer live.';
});
