import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { API, api, ApiError, storedToken, storeToken, type Session } from './api.js';
import { AuditPage } from './pages/audit.js';
import { DeadLettersPage } from './pages/dead-letters.js';
import { GroupsPage } from './pages/groups.js';
import { OverviewPage } from './pages/overview.js';
import { TopicsPage } from './pages/topics.js';
import { Field } from './ui.js';

const PAGES = [
  { path: 'overview', title: 'Overview' },
  { path: 'topics', title: 'Topics' },
  { path: 'groups', title: 'Groups' },
  { path: 'dead-letters', title: 'Dead letters' },
  { path: 'audit', title: 'Audit log' },
] as const;

/** `#/<page>/<rest…>`, decoded. */
function route(): string[] {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter((part) => part !== '').map(decodeURIComponent);
  return parts.length === 0 ? ['overview'] : parts;
}

export function navigate(...parts: string[]): void {
  location.hash = `#/${parts.map(encodeURIComponent).join('/')}`;
}

function useRoute(): string[] {
  const [current, setCurrent] = useState(route());
  useEffect(() => {
    const update = () => setCurrent(route());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return current;
}

function useTheme(): [string, () => void] {
  const initial = localStorage.getItem('brook.console.theme') ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  const [theme, setTheme] = useState(initial);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('brook.console.theme', theme);
  }, [theme]);
  return [theme, () => setTheme(theme === 'dark' ? 'light' : 'dark')];
}

function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const session = await api<Session>(`${API}/session`, { token: token.trim() });
      storeToken(token.trim());
      onSignedIn(session);
    } catch (failure) {
      setError(failure instanceof ApiError && failure.status === 401 ? 'The host did not accept this token.' : (failure as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>Brook console</h1>
      <form onSubmit={submit}>
        <Field label="Token">
          <input type="password" autocomplete="off" value={token} onInput={(event) => setToken(event.currentTarget.value)} required autoFocus />
        </Field>
        <p class="hint">A token from the host's BROOK_ADMIN_TOKENS. It stays in this tab only and is forgotten when the tab closes.</p>
        {error === undefined ? null : (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
      </form>
    </main>
  );
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [theme, toggleTheme] = useTheme();
  const current = useRoute();
  useEffect(() => {
    const token = storedToken();
    if (token === null) return setSession(null);
    api<Session>(`${API}/session`).then(setSession, () => {
      storeToken(null);
      setSession(null);
    });
  }, []);
  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  const [page, ...rest] = current;
  const signOut = () => {
    storeToken(null);
    setSession(null);
    navigate('overview');
  };
  return (
    <div class="shell">
      <header>
        <strong class="brand">Brook</strong>
        <nav aria-label="Main">
          {PAGES.map((entry) => (
            <a href={`#/${entry.path}`} aria-current={page === entry.path ? 'page' : undefined}>
              {entry.title}
            </a>
          ))}
        </nav>
        <span class="who">
          {session.name} · {session.role}
        </span>
        <button type="button" onClick={toggleTheme} aria-label="Switch theme">
          {theme === 'dark' ? 'Light theme' : 'Dark theme'}
        </button>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        {page === 'topics' ? (
          <TopicsPage session={session} topic={rest[0]} />
        ) : page === 'groups' ? (
          <GroupsPage session={session} group={rest[0]} />
        ) : page === 'dead-letters' ? (
          <DeadLettersPage session={session} />
        ) : page === 'audit' ? (
          <AuditPage />
        ) : (
          <OverviewPage />
        )}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
