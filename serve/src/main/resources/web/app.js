// The page of irt serve: one query at a time (an uploaded image or an indexed image's id), its
// top-k as a grid; clicking a result searches by that image. Plain DOM, no build step, no CDN.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const drop = $('drop'), fileInput = $('file'), results = $('results');
  let lastQuery = null;   // what a change of k re-runs
  let generation = 0;     // answers of superseded searches are dropped

  function showError(message) {
    const box = $('error');
    box.textContent = message;
    box.hidden = !message;
  }

  async function post(body, headers) {
    const k = $('k').value;
    const response = await fetch('/search?k=' + encodeURIComponent(k), { method: 'POST', body: body, headers: headers || {} });
    let data = null;
    try { data = await response.json(); } catch (e) { /* a non-JSON answer is reported below */ }
    if (!response.ok) {
      throw new Error((data && data.error) ? data.error : ('search failed: HTTP ' + response.status));
    }
    return data;
  }

  async function search(query) {
    lastQuery = query;
    const mine = ++generation;
    showError('');
    $('status').textContent = 'searching…';
    showQuery(query);
    try {
      let data;
      if (query.file) {
        const form = new FormData();
        form.append('image', query.file, query.file.name);
        data = await post(form);
      } else {
        data = await post(JSON.stringify({ id: query.id }), { 'Content-Type': 'application/json' });
      }
      if (mine !== generation) return;
      render(data);
      $('status').textContent = data.hits.length + ' results in ' + data.took_ms.toFixed(1) + ' ms';
      results.dataset.query = query.id || ('upload:' + query.file.name);
    } catch (e) {
      if (mine !== generation) return;
      results.replaceChildren();
      delete results.dataset.query;
      $('status').textContent = '';
      showError(e.message);
    }
    refreshStats();
  }

  // Thumbnails of tiny images (e.g. 28-px Fashion-MNIST) are enlarged as pixels, not blurred.
  function markTiny(img) {
    img.classList.toggle('tiny', img.naturalWidth > 0 && Math.max(img.naturalWidth, img.naturalHeight) < 100);
  }

  function showQuery(query) {
    const img = $('query-image');
    img.classList.remove('broken');
    if (img.dataset.objectUrl) { URL.revokeObjectURL(img.dataset.objectUrl); delete img.dataset.objectUrl; }
    if (query.file) {
      const url = URL.createObjectURL(query.file);
      img.dataset.objectUrl = url;
      img.src = url;
      $('query-caption').textContent = 'uploaded: ' + query.file.name;
    } else {
      img.src = query.thumbnail;
      $('query-caption').textContent = 'indexed: ' + query.id;
    }
    $('query').hidden = false;
  }

  function render(data) {
    const items = data.hits.map((hit, rank) => {
      const li = document.createElement('li');
      li.className = 'hit';
      li.tabIndex = 0;
      li.dataset.id = hit.id;
      li.title = hit.path;
      const img = document.createElement('img');
      img.className = 'thumb';
      img.alt = hit.id;
      img.loading = 'eager';
      img.src = hit.thumbnail;
      img.addEventListener('error', () => { img.alt = 'thumbnail unavailable: ' + hit.id; });
      img.addEventListener('load', () => markTiny(img));
      const score = document.createElement('div');
      score.className = 'score';
      score.textContent = '#' + (rank + 1) + '  ' + hit.score.toFixed(4);
      const label = document.createElement('div');
      label.className = 'label';
      label.textContent = hit.label === null || hit.label === undefined ? 'no label' : 'label ' + hit.label;
      const id = document.createElement('div');
      id.className = 'id';
      id.textContent = hit.id;
      li.append(img, score, label, id);
      const open = () => search({ id: hit.id, thumbnail: hit.thumbnail });
      li.addEventListener('click', open);
      li.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
      return li;
    });
    results.replaceChildren(...items);
  }

  async function refreshStats() {
    try {
      const r = await fetch('/stats');
      if (!r.ok) return;
      const s = await r.json();
      $('stats').textContent = s.count + ' images · ' + s.dims + '-d · ' + s.describer;
    } catch (e) { /* the header line is informative only */ }
  }

  function chosen(files) {
    if (!files || files.length === 0) return;
    search({ file: files[0] });
  }

  // An upload the browser cannot show either (not an image) leaves only its caption.
  $('query-image').addEventListener('error', () => $('query-image').classList.add('broken'));
  $('query-image').addEventListener('load', () => markTiny($('query-image')));
  fileInput.addEventListener('change', () => { chosen(fileInput.files); fileInput.value = ''; });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); chosen(e.dataTransfer.files); });
  drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); fileInput.click(); } });
  $('k').addEventListener('change', () => { if (lastQuery) search(lastQuery); });
  refreshStats();
})();
