// The resident's phone page (README "Residents: reports and requests from a phone"): opened from the household's
// invite link or QR code (`/r/#sbi1.…`), in any phone browser including WeChat's — plain script, no modules, no
// build, no app. The token after `#` is kept in this browser (localStorage) and taken out of the address bar, so
// a screenshot or a forwarded page does not carry it. Everything the server says is put on the page as text,
// never as markup.
(function () {
  'use strict';
  var KEY = 'shaobing.resident';
  var app = document.getElementById('app');
  var whereEl = document.getElementById('where');
  var titleEl = document.getElementById('title');

  // ── the token ────────────────────────────────────────────────────────────────────────────────────────
  function store(k, v) {
    try {
      if (v === null) localStorage.removeItem(k);
      else localStorage.setItem(k, v);
    } catch (e) {
      /* private mode: the token lives in memory for this visit */
    }
  }
  function load(k) {
    try {
      return localStorage.getItem(k);
    } catch (e) {
      return null;
    }
  }
  var token = null;
  var hash = decodeURIComponent((location.hash || '').replace(/^#/, ''));
  if (/^sbi1\.[A-Za-z0-9_-]+\.[0-9]+\.[A-Za-z0-9_-]+$/.test(hash)) {
    token = hash;
    store(KEY, token);
    if (history.replaceState) history.replaceState(null, '', location.pathname + location.search);
  } else token = load(KEY);

  // ── a few helpers ────────────────────────────────────────────────────────────────────────────────────
  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs)
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k) || attrs[k] === undefined || attrs[k] === null || attrs[k] === false) continue;
        if (k === 'text') e.textContent = attrs[k];
        else if (k === 'onclick' || k === 'oninput' || k === 'onchange' || k === 'onsubmit') e[k] = attrs[k];
        else if (k === 'className') e.className = attrs[k];
        else e.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
      }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { if (x) e.appendChild(typeof x === 'string' ? document.createTextNode(x) : x); });
      else e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return e;
  }
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }
  function pad(n) {
    return (n < 10 ? '0' : '') + n;
  }
  function when(iso) {
    var d = new Date(iso);
    return d.getMonth() + 1 + '月' + d.getDate() + '日 ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }
  var hasChinese = /[\u4e00-\u9fff]/;
  var WORDS = {
    NETWORK: '网络不通，请稍后再试',
    SB_UNAUTHORIZED: '链接无效：请扫描社区发给您家的二维码',
    SB_VALIDATION: '填写的内容不符合要求，请检查后再提交',
    SB_NOT_FOUND: '找不到这条记录',
    SB_TOO_MANY_REQUESTS: '操作太频繁，请过几分钟再试',
    SB_TOO_MANY_ATTEMPTS: '尝试太多，请稍后再试',
    SB_PAYLOAD_TOO_LARGE: '照片太大（最大 10 MB），请换一张',
    SB_UNSUPPORTED_MEDIA_TYPE: '只能上传照片（JPG、PNG 或 WebP 格式）',
  };
  function errorText(err) {
    if (err && err.message && hasChinese.test(err.message)) return err.message;
    return (err && WORDS[err.code]) || '出错了，请稍后再试';
  }

  function api(path, opts) {
    opts = opts || {};
    var headers = { authorization: 'Bearer ' + token };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    return fetch('../api/resident/' + path, {
      method: opts.method || 'GET',
      headers: headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      cache: 'no-store',
    }).then(
      function (res) {
        return res.text().then(function (t) {
          var data = null;
          try {
            data = t ? JSON.parse(t) : null;
          } catch (e) {
            data = null;
          }
          if (!res.ok) {
            var err = new Error((data && data.message) || res.statusText);
            err.code = (data && data.code) || 'HTTP_' + res.status;
            err.status = res.status;
            throw err;
          }
          return data;
        });
      },
      function () {
        var err = new Error('network');
        err.code = 'NETWORK';
        throw err;
      },
    );
  }

  /** One photo, the raw file as the body; the server checks and re-encodes it (or says why not). */
  function upload(file) {
    return fetch('../api/resident/photos', {
      method: 'POST',
      headers: { authorization: 'Bearer ' + token, 'content-type': file.type || 'application/octet-stream' },
      body: file,
    }).then(
      function (res) {
        return res.json().then(
          function (d) {
            if (!res.ok) {
              var err = new Error(d.message || res.statusText);
              err.code = d.code;
              throw err;
            }
            return d.id;
          },
          function () {
            var err = new Error('');
            err.code = res.status === 413 ? 'SB_PAYLOAD_TOO_LARGE' : 'HTTP_' + res.status;
            throw err;
          },
        );
      },
      function () {
        var err = new Error('network');
        err.code = 'NETWORK';
        throw err;
      },
    );
  }

  /** A photo of the household's, fetched with its token and shown from memory. */
  function photo(id, label) {
    var fig = el('figure', { className: 'photo', 'data-photo': id }, el('span', { className: 'muted', text: '照片加载中…' }), el('figcaption', { text: label }));
    fetch('../api/resident/photos/' + id + '?size=thumb', { headers: { authorization: 'Bearer ' + token } })
      .then(function (r) {
        return r.ok ? r.blob() : null;
      })
      .then(function (b) {
        if (!b) return;
        var img = el('img', { alt: label, src: URL.createObjectURL(b) });
        fig.replaceChild(img, fig.firstChild);
      })
      .catch(function () {});
    return fig;
  }

  function fatal(text) {
    clear(app);
    app.appendChild(el('div', { className: 'card' }, el('p', { text: text }), el('p', { className: 'muted', text: '如需帮助，请联系您所在网格的网格员或物业。' })));
  }

  // ── state and views ──────────────────────────────────────────────────────────────────────────────────
  var me = null;
  var tab = 'report';
  var orders = [];
  var openOrder = null;

  function render() {
    clear(app);
    if (openOrder) return renderOrder(openOrder);
    var tabs = el(
      'div',
      { className: 'tabs', role: 'tablist' },
      [
        ['report', '随手拍'],
        ['request', '我要点单'],
        ['mine', '我的记录'],
      ].map(function (t) {
        return el('button', { className: tab === t[0] ? 'on' : '', 'data-tab': t[0], onclick: function () { tab = t[0]; render(); if (t[0] === 'mine') refresh(); } }, t[1]);
      }),
    );
    app.appendChild(tabs);
    if (tab === 'mine') app.appendChild(renderList());
    else app.appendChild(renderForm(tab));
  }

  function renderForm(type) {
    var cats = me.categories[type];
    var chosen = null;
    var intro =
      type === 'report'
        ? '看到乱停车、垃圾堆放、设施坏了或安全隐患？拍下来告诉我们，网格员会处理并在这里答复您。'
        : '需要维修、助老服务或代办事情？告诉我们，网格长会派人上门。';
    var chips = el('div', { className: 'chips', 'data-testid': 'categories' });
    Object.keys(cats).forEach(function (k) {
      chips.appendChild(
        el('button', {
          type: 'button',
          'data-category': k,
          onclick: function (ev) {
            chosen = k;
            Array.prototype.forEach.call(chips.children, function (b) { b.className = b === ev.currentTarget ? 'on' : ''; });
          },
        }, cats[k]),
      );
    });
    var max = me.limits.textMax;
    var count = el('div', { className: 'count', text: '0/' + max });
    var text = el('textarea', { name: 'text', maxlength: String(max), placeholder: type === 'report' ? '一句话说明，例如：3号楼东侧消防通道停了一辆白色轿车' : '一句话说明，例如：厨房水龙头漏水，请师傅上门' });
    text.oninput = function () { count.textContent = text.value.length + '/' + max; };
    var place = el('select', { name: 'place' });
    me.places.forEach(function (p) {
      var o = el('option', { value: p.id, text: p.name });
      if (p.id === me.household.buildingId) o.selected = true;
      place.appendChild(o);
    });
    var maxPhotos = me.limits.photos || 3;
    var files = el('input', { type: 'file', name: 'photos', accept: 'image/jpeg,image/png,image/webp', multiple: true });
    var picked = el('div', { className: 'muted' });
    files.onchange = function () {
      picked.textContent = files.files.length > maxPhotos ? '最多 ' + maxPhotos + ' 张，请重新选择' : files.files.length ? '已选 ' + files.files.length + ' 张照片' : '';
    };
    var msg = el('div');
    var submit = el('button', { type: 'submit', className: 'primary', text: '提交' });
    var form = el(
      'form',
      {
        className: 'card',
        'data-testid': 'file-' + type,
        onsubmit: function (ev) {
          ev.preventDefault();
          clear(msg);
          if (!chosen) return msg.appendChild(el('p', { className: 'msg error', text: '请先选择类别' }));
          if (!text.value.trim()) return msg.appendChild(el('p', { className: 'msg error', text: '请写一句话说明情况' }));
          if (files.files.length > maxPhotos) return msg.appendChild(el('p', { className: 'msg error', text: '最多 ' + maxPhotos + ' 张照片' }));
          submit.disabled = true;
          submit.textContent = '提交中…';
          var list = Array.prototype.slice.call(files.files);
          var ids = [];
          // Photos one by one (a phone's upload is slow; each says how far it got), then the report with their ids.
          list
            .reduce(function (p, f, i) {
              return p.then(function () {
                submit.textContent = '上传照片 ' + (i + 1) + '/' + list.length + '…';
                return upload(f).then(function (id) { ids.push(id); });
              });
            }, Promise.resolve())
            .then(function () {
              submit.textContent = '提交中…';
              var body = { type: type, category: chosen, text: text.value.trim(), placeId: place.value };
              if (ids.length) body.photos = ids;
              return api('orders', { method: 'POST', body: body });
            })
            .then(function (o) {
              orders.unshift(o);
              openOrder = o;
              openOrder.justFiled = true;
              render();
            })
            .catch(function (err) {
              msg.appendChild(el('p', { className: 'msg error', role: 'alert', text: errorText(err) }));
            })
            .then(function () {
              submit.disabled = false;
              submit.textContent = '提交';
            });
        },
      },
      el('p', { className: 'muted', text: intro }),
      el('label', { className: 'h', text: '类别' }),
      chips,
      el('label', { className: 'h', text: '情况说明' }),
      text,
      count,
      el('label', { className: 'h', text: '地点' }),
      place,
      type === 'report' ? el('label', { className: 'h', text: '照片（可选，最多 ' + maxPhotos + ' 张）' }) : null,
      type === 'report' ? files : null,
      type === 'report' ? picked : null,
      submit,
      msg,
    );
    return form;
  }

  function statusBadge(o) {
    return el('span', { className: 'status ' + o.status, 'data-status': o.status, text: o.statusZh });
  }

  function renderList() {
    var box = el('div', { 'data-testid': 'orders' });
    if (!orders.length) box.appendChild(el('p', { className: 'boot', text: '还没有提交过。' }));
    orders.forEach(function (o) {
      box.appendChild(
        el(
          'button',
          { className: 'order', 'data-order': String(o.id), onclick: function () { show(o.id); } },
          el('div', { className: 'line1' }, el('span', { className: 'cat', text: (o.type === 'report' ? '随手拍 · ' : '点单 · ') + o.categoryZh }), statusBadge(o)),
          el('div', { className: 'text', text: o.text }),
          el('div', { className: 'muted', text: o.place + ' · ' + when(o.openedAt) + (o.canRate ? ' · 请评价' : '') }),
        ),
      );
    });
    return box;
  }

  function renderOrder(o) {
    var card = el('div', { className: 'card', 'data-testid': 'order', 'data-order': String(o.id) });
    app.appendChild(el('button', { className: 'back', onclick: function () { openOrder = null; tab = 'mine'; render(); refresh(); }, text: '‹ 我的记录' }));
    if (o.justFiled) app.appendChild(el('p', { className: 'msg ok', role: 'status', text: '已提交，网格员会尽快处理。处理进展会显示在这里。' }));
    card.appendChild(el('div', { className: 'line1' }, el('strong', { text: (o.type === 'report' ? '随手拍 · ' : '点单 · ') + o.categoryZh }), ' ', statusBadge(o)));
    card.appendChild(el('p', { text: o.text }));
    card.appendChild(el('p', { className: 'muted', text: '地点：' + o.place + ' · 提交于 ' + when(o.openedAt) }));
    if (o.photos && o.photos.length)
      card.appendChild(el('div', { className: 'photos' }, o.photos.map(function (id, i) { return photo(id, '照片 ' + (i + 1)); })));
    if (o.resolution) card.appendChild(el('p', { 'data-testid': 'resolution', text: '办结说明：' + o.resolution }));
    if (o.resolutionPhoto) card.appendChild(el('div', { className: 'photos', 'data-testid': 'fix-photo' }, photo(o.resolutionPhoto, '办结照片')));
    if (o.steps && o.steps.length)
      card.appendChild(
        el(
          'ol',
          { className: 'steps' },
          o.steps.map(function (s) {
            return el('li', null, el('time', { text: when(s.at) }), s.what + (s.note ? '：' + s.note : ''));
          }),
        ),
      );
    if (o.rating) card.appendChild(el('p', { 'data-testid': 'rated', text: '您的评价：' + '★★★★★'.slice(0, o.rating.score) + '☆☆☆☆☆'.slice(0, 5 - o.rating.score) + (o.rating.comment ? ' ' + o.rating.comment : '') }));
    app.appendChild(card);
    if (o.canRate) app.appendChild(renderRate(o));
  }

  function renderRate(o) {
    var score = 0;
    var stars = el('div', { className: 'stars', 'data-testid': 'stars' });
    for (var i = 1; i <= 5; i++)
      (function (n) {
        stars.appendChild(
          el('button', {
            type: 'button',
            'data-score': String(n),
            'aria-label': n + ' 星',
            text: '★',
            onclick: function () {
              score = n;
              Array.prototype.forEach.call(stars.children, function (b, j) { b.className = j < n ? 'on' : ''; });
            },
          }),
        );
      })(i);
    var comment = el('input', { type: 'text', name: 'comment', maxlength: String(me.limits.textMax), placeholder: '说说处理得怎么样（可不填）' });
    var msg = el('div');
    var submit = el('button', { type: 'submit', className: 'primary', text: '提交评价' });
    return el(
      'form',
      {
        className: 'card',
        'data-testid': 'rate',
        onsubmit: function (ev) {
          ev.preventDefault();
          clear(msg);
          if (!score) return msg.appendChild(el('p', { className: 'msg error', text: '请点星星打分（1–5 星）' }));
          submit.disabled = true;
          api('orders/' + o.id + '/rate', { method: 'POST', body: comment.value.trim() ? { score: score, comment: comment.value.trim() } : { score: score } })
            .then(function (v) {
              openOrder = v;
              render();
            })
            .catch(function (err) {
              submit.disabled = false;
              msg.appendChild(el('p', { className: 'msg error', role: 'alert', text: errorText(err) }));
            });
        },
      },
      el('label', { className: 'h', text: '已办结，请您评价' }),
      stars,
      comment,
      submit,
      msg,
    );
  }

  function show(id) {
    api('orders/' + id)
      .then(function (o) {
        openOrder = o;
        render();
      })
      .catch(function (err) {
        fatal(errorText(err));
      });
  }

  function refresh() {
    return api('orders')
      .then(function (r) {
        orders = r.items;
        if (openOrder) {
          var fresh = orders.filter(function (x) { return x.id === openOrder.id; })[0];
          if (fresh && fresh.updatedAt !== openOrder.updatedAt) return show(openOrder.id);
        } else if (!openOrder && tab === 'mine') render();
      })
      .catch(function () {
        /* the next poll tries again */
      });
  }

  // ── start ────────────────────────────────────────────────────────────────────────────────────────────
  if (!token) return fatal('请扫描社区发给您家的二维码打开本页。');
  api('me')
    .then(function (m) {
      me = m;
      titleEl.textContent = m.household.community + ' · 社区随手拍';
      whereEl.textContent = m.household.building + ' ' + m.household.room + ' 室';
      render();
      refresh();
      // While the page is open: the status follows without a reload.
      setInterval(function () {
        if (!document.hidden) refresh();
      }, 30000);
    })
    .catch(function (err) {
      if (err.code === 'SB_UNAUTHORIZED' || err.code === 'SB_INVITE_REVOKED') store(KEY, null);
      fatal(errorText(err));
    });
})();
