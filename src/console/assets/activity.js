// The Activity page: Chart.js line charts fed by /console/activity/data.json every 5 seconds.
(function () {
  const root = document.getElementById('charts');
  if (!root || typeof Chart === 'undefined') return;
  const src = root.getAttribute('data-src');
  const label = (ms) => new Date(ms).toISOString().slice(11, 16);
  const colors = ['#0b5cad', '#b42318', '#1a7f37', '#8250df', '#bc4c00'];
  const make = (id, names) =>
    new Chart(document.getElementById(id), {
      type: 'line',
      data: { labels: [], datasets: names.map((n, i) => ({ label: n, data: [], borderColor: colors[i], backgroundColor: colors[i], tension: 0.2, pointRadius: 2 })) },
      options: { animation: false, responsive: true, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  const req = make('chart-requests', ['Requests', '429s']);
  const asy = make('chart-async', ['Accepted', 'Processed', 'Failed']);
  const queue = make('chart-queue', ['Queued', 'Running']);
  const depth = document.getElementById('queue-depth');
  async function refresh() {
    try {
      const res = await fetch(src, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      // Signed out (here or in another tab), the session expired or its key was revoked: to the
      // sign-in form, as the polling Async requests page goes, rather than charts that stop without a word.
      if (res.status === 401) { clearInterval(timer); location.assign('/console/sign-in'); return; }
      if (!res.ok) return;
      const d = await res.json();
      const labels = d.minutes.map(label);
      req.data.labels = labels; req.data.datasets[0].data = d.requests; req.data.datasets[1].data = d.limited; req.update();
      asy.data.labels = labels; asy.data.datasets[0].data = d.accepted; asy.data.datasets[1].data = d.processed; asy.data.datasets[2].data = d.failed; asy.update();
      queue.data.labels.push(new Date(d.at).toISOString().slice(11, 19));
      queue.data.datasets[0].data.push(d.queue.queued); queue.data.datasets[1].data.push(d.queue.running);
      if (queue.data.labels.length > 120) { queue.data.labels.shift(); queue.data.datasets.forEach((s) => s.data.shift()); }
      queue.update();
      depth.textContent = 'Queue depth: ' + d.queue.queued + ' queued, ' + d.queue.running + ' running';
    } catch (e) { /* the next tick tries again */ }
  }
  const timer = setInterval(refresh, 5000);
  refresh();
})();
