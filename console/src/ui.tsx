import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useId, useState } from 'preact/hooks';
import { apiErrors, client, type ApiError, type Outcome } from './api/client';
import { navigate } from './router';
import { words } from './i18n';

/** A query of the page: its data, the API's refusals, and a way to ask again. */
export function useApi<T, V extends AnyVariables>(document: TypedDocumentNode<T, V>, variables: V | null, deps: unknown[] = []) {
  const [state, setState] = useState<{ data: T | null; errors: ApiError[]; loading: boolean }>({ data: null, errors: [], loading: variables !== null });
  const [round, setRound] = useState(0);
  // The variables are compared through `deps` (an object literal is new at every render).
  useEffect(() => {
    if (variables === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    client
      .query(document, variables)
      .toPromise()
      .then((result) => {
        if (live) setState({ data: result.data ?? null, errors: apiErrors(result.error), loading: false });
      });
    return () => {
      live = false;
    };
  }, [round, ...deps]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { ...state, reload };
}

/** A link inside the console: the browser's history, no reload (the token lives in memory). */
export function Link({ href, children, ...rest }: { href: string; children: ComponentChildren } & JSX.HTMLAttributes<HTMLAnchorElement>) {
  return (
    <a
      {...rest}
      href={href}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

/** The API's refusals that name no field on this form, as an alert. */
export function Errors({ errors, fields = [] }: { errors: ApiError[]; fields?: string[] }) {
  const general = errors.filter((e) => !e.field || !fields.includes(e.field));
  if (general.length === 0) return null;
  return (
    <div class="errors" role="alert">
      <ul>
        {general.map((e, i) => (
          <li key={i}>
            {e.message}
            {e.field ? ` (${e.field})` : ''}
          </li>
        ))}
      </ul>
    </div>
  );
}

export interface FieldSpec {
  name: string;
  label: string;
  type?: 'text' | 'textarea' | 'select' | 'checkboxes' | 'date';
  options?: Array<{ value: string; label: string }>;
  required?: boolean;
  value?: string;
}

/**
 * A form for one action: each field with its label; on submit the action runs and every refusal
 * the API gives is shown at the field it names (else above the button), in the page's language.
 */
export function ActionForm({
  title,
  fields,
  submit,
  run,
  onDone,
  danger = false,
}: {
  title: string;
  fields: FieldSpec[];
  submit: string;
  run: (values: Record<string, string | string[]>) => Promise<Outcome<unknown>>;
  onDone?: () => void;
  danger?: boolean;
}) {
  const id = useId();
  const [errors, setErrors] = useState<ApiError[]>([]);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const w = words();
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const values: Record<string, string | string[]> = {};
    for (const f of fields) values[f.name] = f.type === 'checkboxes' ? (data.getAll(f.name) as string[]) : String(data.get(f.name) ?? '');
    setBusy(true);
    setDone(false);
    const outcome = await run(values);
    setBusy(false);
    if (outcome.ok) {
      setErrors([]);
      setDone(true);
      form.reset();
      onDone?.();
    } else setErrors(outcome.errors);
  };
  const errorOf = (name: string) => errors.find((e) => e.field === name);
  return (
    <form class="action" onSubmit={onSubmit} aria-labelledby={`${id}-title`} noValidate>
      <h3 id={`${id}-title`}>{title}</h3>
      {fields.map((f) => {
        const error = errorOf(f.name);
        const fid = `${id}-${f.name}`;
        const described = error ? { 'aria-invalid': true as const, 'aria-describedby': `${fid}-error` } : {};
        return (
          <div class={`field${error ? ' invalid' : ''}`} key={f.name}>
            {f.type === 'checkboxes' ? (
              <fieldset {...described}>
                <legend>{f.label}</legend>
                {f.options!.map((o) => (
                  <label key={o.value} class="check">
                    <input type="checkbox" name={f.name} value={o.value} /> {o.label}
                  </label>
                ))}
              </fieldset>
            ) : (
              <>
                <label for={fid}>{f.label}</label>
                {f.type === 'textarea' ? (
                  <textarea id={fid} name={f.name} required={f.required} rows={4} value={f.value} {...described} />
                ) : f.type === 'select' ? (
                  <select id={fid} name={f.name} required={f.required} value={f.value} {...described}>
                    {f.options!.map((o) => (
                      <option key={o.value} value={o.value}>
                        {o.label}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    id={fid}
                    name={f.name}
                    type={f.type === 'date' ? 'date' : 'text'}
                    required={f.required}
                    value={f.value}
                    autocomplete="off"
                    {...described}
                  />
                )}
              </>
            )}
            {error ? (
              <p class="error" id={`${fid}-error`}>
                {error.message}
              </p>
            ) : null}
          </div>
        );
      })}
      <Errors errors={errors} fields={fields.map((f) => f.name)} />
      <button type="submit" class={danger ? 'danger' : ''} disabled={busy}>
        {submit}
      </button>
      {done ? (
        <p class="done" role="status">
          {w.messages.done}
        </p>
      ) : null}
    </form>
  );
}

/** A list as a table with a caption: every value rendered as text, never as markup. */
export function Table<T>({
  caption,
  columns,
  rows,
  empty,
}: {
  caption: string;
  columns: Array<{ title: string; cell: (row: T) => ComponentChildren }>;
  rows: T[];
  empty?: string;
}) {
  if (rows.length === 0)
    return (
      <p class="empty">
        <strong>{caption}</strong>: {empty ?? words().messages.empty}
      </p>
    );
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th scope="col" key={c.title}>
              {c.title}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row, i) => (
          <tr key={i}>
            {columns.map((c) => (
              <td key={c.title}>{c.cell(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Back and next over a cursor-paged list: `cursors` is the stack of `after` values that led here. */
export function Pager({
  cursors,
  setCursors,
  pageInfo,
}: {
  cursors: string[];
  setCursors: (next: string[]) => void;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}) {
  return (
    <div class="pager">
      {cursors.length > 0 ? (
        <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
          ←
        </button>
      ) : null}
      {pageInfo.hasNextPage ? (
        <button type="button" onClick={() => setCursors([...cursors, pageInfo.endCursor!])}>
          {words().actions.next}
        </button>
      ) : null}
    </div>
  );
}

export function Loading() {
  return <p aria-busy="true">{words().loading}</p>;
}

/** Dates and moments as a person reads them, in Kazakhstan's time (UTC+5). */
export function when(iso: string | null | undefined): string {
  if (!iso) return words().messages.none;
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : new Date(d.getTime() + 5 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
}
