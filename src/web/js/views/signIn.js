// Sign-in: a username and password from the inventory (POST api/session), or a staff token pasted in.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, ApiError } from '../api.js';
import { errorText } from '../zh.js';

export function SignIn({ notice, onSignedIn }) {
  const [mode, setMode] = useState('password');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'password') {
        const s = await api('session', { method: 'POST', body: { username: username.trim(), password }, anonymous: true });
        onSignedIn(s.token);
      } else {
        const t = token.trim();
        // Check the token before keeping it: a typo should say so here, not as an empty console.
        const res = await fetch('api/me', { headers: { authorization: `Bearer ${t}` }, cache: 'no-store' }).catch(() => null);
        if (!res) throw new ApiError(0, 'NETWORK', '');
        if (!res.ok) throw new ApiError(res.status, res.status === 401 ? 'SB_BAD_TOKEN' : `HTTP_${res.status}`, '');
        onSignedIn(t);
      }
    } catch (err) {
      setError(err.code === 'SB_BAD_TOKEN' ? '令牌无效' : errorText(err));
      setBusy(false);
    }
  }

  const tab = (m, label) => html`<button type="button" class=${mode === m ? 'tab on' : 'tab'} aria-pressed=${mode === m} onClick=${() => (setMode(m), setError(null))}>${label}</button>`;
  return html`
    <main class="signin">
      <form class="signin-card" onSubmit=${submit} data-testid="signin">
        <div class="brand big-brand"><span class="logo" aria-hidden="true"></span><span>哨兵</span></div>
        <p class="muted">社区值守台 · 请登录</p>
        ${notice && html`<p class="notice">${notice}</p>`}
        <div class="tabs">${tab('password', '账号密码')}${tab('token', '访问令牌')}</div>
        ${mode === 'password'
          ? html`
              <label>用户名<input name="username" autocomplete="username" required value=${username} onInput=${(e) => setUsername(e.currentTarget.value)} /></label>
              <label>密码<input name="password" type="password" autocomplete="current-password" required value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} /></label>
            `
          : html`<label>访问令牌<input name="token" autocomplete="off" spellcheck="false" required value=${token} onInput=${(e) => setToken(e.currentTarget.value)} /></label>`}
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <button class="primary wide" type="submit" disabled=${busy}>${busy ? '登录中…' : '登录'}</button>
        <p class="fineprint">只显示您所在微网格的信息。</p>
      </form>
    </main>
  `;
}
