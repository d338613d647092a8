/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The forms' script, bundled for the browser when the gateway starts (see assets.ts). The page works
 * without it (a plain form post); with it each field is checked as the person leaves it and every
 * field again on sending — with the API's own rules and words: the schema of `submitAppeal` and the
 * shared kk/ru messages, bundled from the same source — and the form is sent to `/graphql` itself,
 * where the answer's errors are shown at their fields in the same way.
 */
import { isMessageKey, t, type Locale } from '@pdp/shared';
import { submitAppealSchema } from '../../../services/appeals/src/domain/appeal';

const FIELDS = ['iin', 'phone', 'email', 'description', 'privacyPolicyAccepted'] as const;
type Field = (typeof FIELDS)[number];

interface PageData {
  locale: Locale;
  kind: string;
  accepted: string;
  reference: string;
  deadline: string;
  deadlineNote: string;
  another: string;
  sending: string;
  submit: string;
  errorPrefix: string;
  titleError: string;
  /** The privacy policy's version this page shows: stored with the consent. */
  policyVersion: number;
}

const SUBMIT = 'mutation SubmitAppeal($input: SubmitAppealInput!) { submitAppeal(input: $input) { appeal { reference deadline } } }';

/** The message the API would give for this field's value, or null. */
export function checkField(field: Field, value: string | boolean, locale: Locale): string | null {
  const parsed = submitAppealSchema.shape[field].safeParse(value);
  if (parsed.success) return null;
  const key = parsed.error.issues[0]?.message ?? '';
  return t(isMessageKey(key) ? key : 'input.invalid', locale);
}

function start(): void {
  const form = document.querySelector<HTMLFormElement>('form[data-form]');
  const dataNode = document.getElementById('form-data');
  if (!form || !dataNode) return;
  const data = JSON.parse(dataNode.textContent ?? '{}') as PageData;
  const summary = document.getElementById('error-summary') as HTMLElement;
  const button = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
  const baseTitle = document.title.replace(new RegExp(`^${data.titleError}: `), '');

  const control = (field: Field) => form.elements.namedItem(field) as HTMLInputElement | HTMLTextAreaElement;
  const fieldValue = (field: Field): string | boolean => {
    const el = control(field);
    return el instanceof HTMLInputElement && el.type === 'checkbox' ? el.checked : el.value;
  };

  const showAtField = (field: Field, message: string | null) => {
    const wrapper = form.querySelector<HTMLElement>(`[data-field="${field}"]`)!;
    const error = document.getElementById(`${field}-error`)!;
    const el = control(field);
    wrapper.classList.toggle('field--error', message !== null);
    error.hidden = message === null;
    error.querySelector('.error-text')!.textContent = message ?? '';
    const described = (el.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => id && id !== error.id);
    if (message !== null) {
      el.setAttribute('aria-invalid', 'true');
      described.push(error.id);
    } else {
      el.removeAttribute('aria-invalid');
    }
    el.setAttribute('aria-describedby', described.join(' '));
  };

  const showSummary = (errors: Array<[Field | null, string]>) => {
    const list = summary.querySelector('ul')!;
    list.replaceChildren(
      ...errors.map(([field, message]) => {
        const item = document.createElement('li');
        if (field) {
          const link = document.createElement('a');
          link.href = `#${field}`;
          link.textContent = message;
          link.addEventListener('click', (event) => {
            event.preventDefault();
            control(field).focus();
          });
          item.append(link);
        } else {
          item.textContent = message;
        }
        return item;
      }),
    );
    summary.hidden = errors.length === 0;
    document.title = errors.length > 0 ? `${data.titleError}: ${baseTitle}` : baseTitle;
    if (errors.length > 0) summary.focus();
  };

  // Leaving a field for the send button must not move the button away under the pointer (a message
  // appearing above it would): the sending shows every message anyway.
  let pressingSend = false;
  button.addEventListener('pointerdown', () => (pressingSend = true));
  document.addEventListener('pointerup', () => setTimeout(() => (pressingSend = false), 0));

  // Before sending: each field as the person leaves it; once wrong, again as they correct it.
  for (const field of FIELDS) {
    const el = control(field);
    el.addEventListener(field === 'privacyPolicyAccepted' ? 'change' : 'blur', () => {
      if (!pressingSend) showAtField(field, checkField(field, fieldValue(field), data.locale));
    });
    el.addEventListener('input', () => {
      if (el.getAttribute('aria-invalid') === 'true') showAtField(field, checkField(field, fieldValue(field), data.locale));
    });
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const errors = FIELDS.map((field) => [field, checkField(field, fieldValue(field), data.locale)] as [Field, string | null]);
    for (const [field, message] of errors) showAtField(field, message);
    const bad = errors.filter((e): e is [Field, string] => e[1] !== null);
    if (bad.length > 0) return showSummary(bad);
    void send();
  });

  async function send(): Promise<void> {
    button.disabled = true;
    button.textContent = data.sending;
    const input = {
      kind: data.kind,
      iin: fieldValue('iin'),
      phone: fieldValue('phone'),
      email: fieldValue('email'),
      description: fieldValue('description'),
      privacyPolicyAccepted: fieldValue('privacyPolicyAccepted'),
      policyVersion: data.policyVersion,
      locale: data.locale,
    };
    try {
      const res = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'accept-language': data.locale.toLowerCase() },
        body: JSON.stringify({ query: SUBMIT, variables: { input } }),
      });
      const body = (await res.json()) as {
        data?: { submitAppeal?: { appeal: { reference: string; deadline: string } } } | null;
        errors?: Array<{ message: string; extensions?: { code?: string; field?: string } }>;
      };
      const appeal = body.data?.submitAppeal?.appeal;
      if (appeal) return accepted(appeal);
      // After sending: the API's own answer, each bad field at its place.
      const errors = (body.errors ?? []).map((e) => {
        const field = FIELDS.find((f) => f === e.extensions?.field) ?? null;
        if (field) showAtField(field, e.message);
        return [field, e.message] as [Field | null, string];
      });
      showSummary(errors.length > 0 ? errors : [[null, t('internal', data.locale)]]);
    } catch {
      showSummary([[null, t('internal', data.locale)]]);
    } finally {
      button.disabled = false;
      button.textContent = data.submit;
    }
  }

  function accepted(appeal: { reference: string; deadline: string }): void {
    const main = document.getElementById('main')!;
    const [y, m, d] = appeal.deadline.split('-');
    const panel = document.createElement('div');
    panel.className = 'panel';
    panel.setAttribute('role', 'status');
    const heading = document.createElement('h1');
    heading.textContent = data.accepted;
    heading.tabIndex = -1;
    const line = (label: string, value: string, className: string) => {
      const p = document.createElement('p');
      p.className = 'panel-line';
      const strong = document.createElement('strong');
      strong.className = className;
      strong.textContent = value;
      p.append(`${label}: `, strong);
      return p;
    };
    panel.append(heading, line(data.reference, appeal.reference, 'reference'), line(data.deadline, `${d}.${m}.${y}`, 'deadline'));
    const note = document.createElement('p');
    note.textContent = data.deadlineNote;
    const again = document.createElement('p');
    const link = document.createElement('a');
    link.href = `${location.pathname}?lang=${data.locale.toLowerCase()}`;
    link.textContent = data.another;
    again.append(link);
    main.replaceChildren(panel, note, again);
    document.title = `${data.accepted} — ${baseTitle.split(' — ').slice(1).join(' — ')}`;
    heading.focus();
  }
}

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}
