// Entry point: sign-in or the console; `?mode=big` is the big screen. A kiosk can be set up with
// `/?mode=big#token=<staff token>`: the fragment never reaches the server, and it is removed from the
// address bar once kept.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { session } from './api.js';
import { SignIn } from './views/signIn.js';
import { Console } from './app.js';

const big = new URLSearchParams(location.search).get('mode') === 'big';
document.documentElement.classList.toggle('mode-big', big);

const fragment = /^#token=([^&]+)/.exec(location.hash);
if (fragment) {
  session.set(decodeURIComponent(fragment[1]));
  history.replaceState(null, '', location.pathname + location.search);
}

function Root() {
  const [token, setToken] = useState(session.token);
  const [notice, setNotice] = useState(null);
  const signOut = (message = null) => {
    session.clear();
    setNotice(message);
    setToken(null);
  };
  useEffect(() => session.onUnauthorized(() => signOut('登录已失效，请重新登录')), []);
  if (!token)
    return html`<${SignIn}
      notice=${notice}
      onSignedIn=${(t) => {
        session.set(t);
        setNotice(null);
        setToken(t);
      }}
    />`;
  return html`<${Console} key=${token} big=${big} onSignOut=${() => signOut()} onUnauthorized=${() => signOut('登录已失效，请重新登录')} />`;
}

const root = document.getElementById('app');
root.textContent = ''; // the "loading" line: preact renders next to what is there, it does not replace it
render(html`<${Root} />`, root);
