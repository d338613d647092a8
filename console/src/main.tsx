import { render, type ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { MeDocument, type MeQuery, type Role } from './generated/operations';
import { completeSignIn, currentSession, signIn, signOut } from './auth';
import { lang, onLangChange, setLang, words, type Lang } from './i18n';
import { match, navigate, usePath } from './router';
import { Errors, Link, Loading, useApi } from './ui';
import { AppealPage, WorklistPage } from './pages/appeals';
import { ErasureActsPage } from './pages/erasure';
import { AuditPage, IncidentsPage } from './pages/audit';
import { HealthPage } from './pages/health';
import { SubjectPage, SubjectSearchPage, RectificationsPage } from './pages/subjects';
import { AccessPage, CreditorsPage, TemplatesPage } from './pages/registry';
import { PartnerPage } from './pages/partner';
import { PeoplePage } from './pages/people';

export type Me = MeQuery['me'];
export interface PageProps {
  me: Me;
  params: Record<string, string>;
}

interface Route {
  path: string;
  roles: readonly Role[];
  page: ComponentType<PageProps>;
  /** Shown in the navigation under this name (routes with a parameter are reached from lists). */
  nav?: keyof ReturnType<typeof words>['routes'];
}

/** Each route with the roles whose purpose it serves: the navigation shows only what the account may use. */
const ROUTES: readonly Route[] = [
  { path: '/console/appeals', roles: ['OPERATOR', 'DPO'], page: WorklistPage, nav: 'appeals' },
  { path: '/console/appeals/:id', roles: ['OPERATOR', 'DPO'], page: AppealPage },
  { path: '/console/subjects', roles: ['DPO'], page: SubjectSearchPage, nav: 'subjects' },
  { path: '/console/subjects/:id', roles: ['DPO', 'OPERATOR', 'CHAIRMAN', 'AUDITOR'], page: SubjectPage },
  { path: '/console/erasure-acts', roles: ['CHAIRMAN', 'DPO', 'AUDITOR'], page: ErasureActsPage, nav: 'erasureActs' },
  { path: '/console/rectifications', roles: ['DPO'], page: RectificationsPage, nav: 'rectifications' },
  { path: '/console/audit', roles: ['AUDITOR', 'DPO'], page: AuditPage, nav: 'audit' },
  { path: '/console/incidents', roles: ['DPO', 'AUDITOR'], page: IncidentsPage, nav: 'incidents' },
  { path: '/console/health', roles: ['OPS', 'DPO'], page: HealthPage, nav: 'health' },
  { path: '/console/access', roles: ['DPO', 'AUDITOR', 'CHAIRMAN'], page: AccessPage, nav: 'access' },
  { path: '/console/creditors', roles: ['DPO', 'OPERATOR'], page: CreditorsPage, nav: 'creditors' },
  { path: '/console/templates', roles: ['DPO'], page: TemplatesPage, nav: 'templates' },
  { path: '/console/partner', roles: ['PARTNER'], page: PartnerPage, nav: 'partner' },
  { path: '/console/people', roles: ['HR', 'CONTRACTS'], page: PeoplePage, nav: 'people' },
];

const allowed = (route: Route, me: Me) => route.roles.some((r) => me.roles.includes(r));

function LanguageSwitch() {
  const w = words();
  return (
    <fieldset class="lang">
      <legend class="visually-hidden">{w.language}</legend>
      {(['kk', 'ru'] as Lang[]).map((l) => (
        <button key={l} type="button" aria-pressed={lang() === l} onClick={() => setLang(l)} lang={l}>
          {l === 'kk' ? 'Қазақша' : 'Русский'}
        </button>
      ))}
    </fieldset>
  );
}

function SignInScreen({ failed }: { failed: boolean }) {
  const w = words();
  return (
    <main id="main" class="signin">
      <h1>{w.title}</h1>
      <p>{w.chamber}</p>
      {failed ? <p role="alert">{w.signInFailed}</p> : null}
      <button type="button" onClick={() => void signIn(location.pathname === '/console/callback' ? '/console/' : location.pathname)}>
        {w.signIn}
      </button>
      <LanguageSwitch />
    </main>
  );
}

function Shell() {
  const path = usePath();
  const w = words();
  const me = useApi(MeDocument, {}, []);
  if (me.loading && !me.data) return <Loading />;
  if (!me.data) return <Errors errors={me.errors} />;
  const account = me.data.me;
  const mine = ROUTES.filter((r) => allowed(r, account));
  const found = match(
    path,
    ROUTES.map((r) => r.path),
  );
  const route = found ? ROUTES.find((r) => r.path === found.route)! : null;
  // The console's root opens the account's first page.
  if ((path === '/console' || path === '/console/') && mine[0]) {
    queueMicrotask(() => navigate(mine[0]!.path, true));
    return <Loading />;
  }
  const Page = route?.page;
  return (
    <>
      <a class="skip" href="#main">
        {w.skip}
      </a>
      <header>
        <p class="brand">{w.title}</p>
        <p class="who">
          {account.displayName} ({account.roles.join(', ')})
        </p>
        <LanguageSwitch />
        <button type="button" class="signout" onClick={() => void signOut()}>
          {w.signOut}
        </button>
      </header>
      <nav aria-label={w.nav}>
        <ul>
          {mine
            .filter((r) => r.nav)
            .map((r) => (
              <li key={r.path}>
                <Link href={r.path} aria-current={path.startsWith(r.path) ? 'page' : undefined}>
                  {w.routes[r.nav!]}
                </Link>
              </li>
            ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {mine.length === 0 ? (
          <p role="alert">{w.noRoles}</p>
        ) : !route || !Page ? (
          <p role="alert">{w.notFound}</p>
        ) : !allowed(route, account) ? (
          <p role="alert">{w.notAllowed}</p>
        ) : (
          <Page me={account} params={found!.params} key={path} />
        )}
      </main>
    </>
  );
}

function App() {
  const [, setRound] = useState(0);
  const [state, setState] = useState<'callback' | 'ready' | 'failed'>(location.pathname === '/console/callback' ? 'callback' : 'ready');
  useEffect(() => onLangChange(() => setRound((r) => r + 1)), []);
  useEffect(() => {
    if (state !== 'callback') return;
    completeSignIn().then(
      (next) => {
        navigate(next, true);
        setState('ready');
      },
      () => {
        history.replaceState(null, '', '/console/');
        setState('failed');
      },
    );
  }, [state]);
  if (state === 'callback') return <Loading />;
  if (!currentSession()) return <SignInScreen failed={state === 'failed'} />;
  return <Shell key={lang()} />;
}

document.documentElement.lang = lang();
render(<App />, document.getElementById('app')!);
