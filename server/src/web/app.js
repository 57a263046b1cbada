// recsys pages: like / dislike / remove buttons, and the live "Recommended for you" panel fed
// by Server-Sent Events. Plain JavaScript, no build step. Data from the server is only ever
// put into the page with textContent and attributes, never parsed as markup.
(function () {
  'use strict';

  var user = document.body.getAttribute('data-user') || '';

  function userUrl(suffix) {
    return '/api/users/' + encodeURIComponent(user) + suffix;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function productLink(asin, title) {
    var a = el('a', 'title', title || asin);
    a.href = '/products/' + encodeURIComponent(asin);
    return a;
  }

  function preferenceButtons(asin) {
    var actions = el('div', 'actions');
    ['like', 'dislike'].forEach(function (kind) {
      var b = el('button', kind, kind === 'like' ? 'Like' : 'Dislike');
      b.type = 'button';
      b.setAttribute('data-asin', asin);
      actions.appendChild(b);
    });
    return actions;
  }

  function renderPreferences(preferences) {
    var list = document.getElementById('preferences');
    if (!list) return;
    var items = preferences.map(function (p) {
      var li = el('li', 'pref');
      li.setAttribute('data-asin', p.asin);
      var label = el('span');
      label.appendChild(productLink(p.asin, p.title));
      label.appendChild(document.createTextNode(' '));
      var kind = p.kind + (p.value !== null && p.value !== undefined ? ' ' + p.value + '\u2605' : '');
      label.appendChild(el('span', 'muted', kind));
      li.appendChild(label);
      var remove = el('button', 'remove', 'Remove');
      remove.type = 'button';
      remove.setAttribute('data-asin', p.asin);
      li.appendChild(remove);
      return li;
    });
    list.replaceChildren.apply(list, items);
    var none = document.getElementById('no-preferences');
    if (none) none.hidden = preferences.length > 0;
  }

  function refreshPreferences() {
    if (!document.getElementById('preferences')) return;
    fetch(userUrl(''), { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body) renderPreferences(body.preferences); });
  }

  function setPreference(button, asin, kind) {
    button.disabled = true;
    fetch(userUrl('/preferences'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ asin: asin, kind: kind })
    }).then(function (r) {
      button.disabled = false;
      if (r.ok) {
        button.classList.add('done');
        button.textContent = kind === 'like' ? 'Liked' : 'Disliked';
        refreshPreferences();
      } else {
        button.textContent = 'Error ' + r.status;
      }
    }, function () {
      button.disabled = false;
      button.textContent = 'Offline';
    });
  }

  function removePreference(button, asin) {
    button.disabled = true;
    fetch(userUrl('/preferences/' + encodeURIComponent(asin)), {
      method: 'DELETE',
      credentials: 'same-origin'
    }).then(function (r) {
      button.disabled = false;
      if (r.ok || r.status === 404) refreshPreferences();
      else button.textContent = 'Error ' + r.status;
    });
  }

  document.addEventListener('click', function (e) {
    var button = e.target.closest ? e.target.closest('button[data-asin]') : null;
    if (!button || !user) return;
    var asin = button.getAttribute('data-asin');
    if (button.classList.contains('like')) setPreference(button, asin, 'like');
    else if (button.classList.contains('dislike')) setPreference(button, asin, 'dislike');
    else if (button.classList.contains('remove')) removePreference(button, asin);
  });

  function renderRecommendations(panel, recs) {
    var list = document.getElementById('rec-list');
    var items = recs.items.map(function (r) {
      var li = el('li', 'rec');
      li.setAttribute('data-asin', r.asin);
      li.appendChild(productLink(r.asin, r.title));
      li.appendChild(el('div', 'because', r.because));
      var plugins = r.sources.map(function (s) { return s.plugin; }).join(', ');
      li.appendChild(el('div', 'sources', 'from ' + plugins));
      li.appendChild(preferenceButtons(r.asin));
      return li;
    });
    list.replaceChildren.apply(list, items);
    panel.setAttribute('data-model-version', recs.model_version);
    if (recs.event_id) panel.setAttribute('data-event-id', recs.event_id);
  }

  var panel = document.getElementById('recommendations');
  if (panel && window.EventSource) {
    var status = document.getElementById('stream-status');
    var source = new EventSource(
      '/api/users/' + encodeURIComponent(panel.getAttribute('data-user')) + '/stream'
    );
    source.addEventListener('open', function () {
      if (status) status.textContent = 'Live: updates as you like products.';
    });
    source.addEventListener('error', function () {
      if (status) status.textContent = 'Live updates interrupted; reconnecting\u2026';
    });
    source.addEventListener('recommendations', function (e) {
      var recs = JSON.parse(e.data);
      renderRecommendations(panel, recs);
      var n = Number(panel.getAttribute('data-updates') || '0') + 1;
      panel.setAttribute('data-updates', String(n));
      refreshPreferences();
    });
  }
})();
