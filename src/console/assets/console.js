// Small page helpers that need no library: "Copy" buttons copy the text of the element they name.
document.addEventListener('click', (ev) => {
  const btn = ev.target instanceof Element ? ev.target.closest('button[data-copy]') : null;
  if (!btn) return;
  const src = document.querySelector(btn.getAttribute('data-copy'));
  if (!src || !navigator.clipboard) return;
  navigator.clipboard.writeText(src.textContent).then(() => { btn.textContent = 'Copied'; setTimeout(() => (btn.textContent = 'Copy'), 1500); });
});
// A new live row replaces the "no requests yet" line.
document.addEventListener('htmx:sseMessage', () => document.getElementById('journal-empty')?.remove());
// The stream ended because the session did (sign-out, a revoked key, expiry): the list is not live any more.
document.addEventListener('htmx:sseClose', (ev) => {
  if (ev.detail?.type !== 'message') return;
  const live = document.getElementById('live-status');
  if (live) live.textContent = 'Signed out: this list is no longer live.';
});
