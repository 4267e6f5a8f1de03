// Steward dashboard: local times and live updates from the instance's event stream. No framework, no
// inline code (the Content-Security-Policy forbids it); the page works without this script.
(() => {
  'use strict';
  const localTimes = (root) => {
    for (const t of root.querySelectorAll('time[datetime]')) {
      t.title = t.dateTime;
      t.textContent = new Date(t.dateTime).toLocaleString();
    }
  };
  localTimes(document);

  const id = document.body.dataset.instance;
  if (!id || !window.EventSource || !document.getElementById('live')) {
    return;
  }

  const base = '/dashboard/instances/' + encodeURIComponent(id);
  let timer = null;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const response = await fetch(base + '/', { credentials: 'same-origin', headers: { Accept: 'text/html' } });
      if (!response.ok) {
        return;
      }
      const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').getElementById('live');
      const live = document.getElementById('live');
      if (!fresh || !live) {
        return;
      }
      // Keep the incidents the reader opened or closed as they were.
      for (const d of live.querySelectorAll('details[data-incident]')) {
        const twin = fresh.querySelector('details[data-incident="' + CSS.escape(d.dataset.incident) + '"]');
        if (twin) {
          twin.open = d.open;
        }
      }
      localTimes(fresh);
      live.replaceWith(fresh);
    }, 150);
  };

  const bytes = (n) => {
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
  };

  const events = new EventSource(base + '/events');
  events.addEventListener('ready', () => { document.body.dataset.live = 'connected'; });
  events.onerror = () => { document.body.dataset.live = 'reconnecting'; };
  for (const type of ['health', 'operation', 'backup', 'incident', 'instance', 'rehearsal']) {
    events.addEventListener(type, refresh);
  }
  events.addEventListener('progress', (e) => {
    const p = JSON.parse(e.data);
    const line = document.querySelector('[data-progress="' + CSS.escape(p.id) + '"]');
    if (!line) {
      refresh();
      return;
    }
    line.textContent = line.textContent.replace(/:.*$/, ': ') + bytes(p.plaintext_bytes) + ' read, ' + bytes(p.stored_bytes) + ' stored, '
      + bytes(p.bytes_per_second) + '/s, stage ' + p.stage + ', ' + p.elapsed_seconds + ' s';
  });
})();
