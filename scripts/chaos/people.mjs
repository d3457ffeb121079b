// The approvers' side: mail they get (printed by signoff, read from its stderr), and a
// browser each for the web app, driven with plain HTTP (its forms are HTML forms).

const LINK = /\/d\/([A-Za-z0-9_-]{43})/;
const SIGN_IN_LINK = /\/sign-in\/([A-Za-z0-9_-]{43})/;
const CSRF = /name="_csrf" value="([^"]+)"/;
// The decision form of an approval page, present only while the approval waits for the viewer.
const DECISION_FORM =
  /<form method="post" action="\/approvals\/[^"/]+\/decisions"[^>]*>\s*<input type="hidden" name="_csrf" value="([^"]+)"/;

/** Mail by recipient and subject; `next` waits for the next one not yet taken. */
export function createMailbox() {
  const boxes = new Map();
  let received = 0;
  const box = (to, subject) => {
    const key = `${to.toLowerCase()}|${subject}`;
    let found = boxes.get(key);
    if (!found) {
      found = { mails: [], waiters: [] };
      boxes.set(key, found);
    }
    return found;
  };
  return {
    get received() {
      return received;
    },
    deliver(mail) {
      received++;
      mail.at = Date.now();
      const target = box(mail.to, mail.subject);
      target.mails.push(mail);
      for (const wake of target.waiters.splice(0)) wake();
    },
    /** The oldest mail not yet taken to `to` with `subject`; rejects after `timeoutMs`. */
    async next(to, subject, timeoutMs) {
      const target = box(to, subject);
      const deadline = Date.now() + timeoutMs;
      while (target.mails.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no mail "${subject}" to ${to} within ${timeoutMs / 1000} s`);
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, left);
          target.waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return target.mails.shift();
    },
  };
}

/** The decision token in a mail, or undefined. */
export function decisionToken(mail) {
  return LINK.exec(mail.text)?.[1];
}

/** A browser of one person: a cookie jar over the driver's client. */
export function createBrowser(client, email) {
  const cookies = new Map();

  async function send(method, path, { form, target, accept = 'text/html' } = {}) {
    const headers = { accept };
    if (cookies.size > 0) headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const answer = await client.call({ method, path, headers, body, target });
    for (const line of answer.headers['set-cookie'] ?? []) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === '' || /max-age=0\b/i.test(line)) cookies.delete(name);
      else cookies.set(name, value);
    }
    return answer;
  }

  return {
    email,
    /** Signs in by a mailed one-time link: ask for it, open it, press "Sign in". */
    async signIn(mailbox) {
      const page = await send('GET', '/sign-in');
      const csrf = CSRF.exec(page.body)?.[1];
      if (page.status !== 200 || !csrf) throw new Error(`sign-in page: HTTP ${page.status}`);
      const asked = await send('POST', '/sign-in', { form: { _csrf: csrf, email, next: '/' } });
      if (asked.status !== 200) throw new Error(`asking for a sign-in link: HTTP ${asked.status}`);
      const mail = await mailbox.next(email, 'Sign in to signoff', 60_000);
      const token = SIGN_IN_LINK.exec(mail.text)?.[1];
      const confirm = await send('GET', `/sign-in/${token}`);
      const confirmCsrf = CSRF.exec(confirm.body)?.[1];
      if (confirm.status !== 200 || !confirmCsrf)
        throw new Error(`sign-in link page: HTTP ${confirm.status}`);
      const done = await send('POST', `/sign-in/${token}`, { form: { _csrf: confirmCsrf } });
      if (done.status !== 303 || !cookies.has('signoff'))
        throw new Error(`signing in: HTTP ${done.status}, no session cookie`);
    },
    /**
     * Opens the approval's page and submits its decision form. Answers like the API: 'ok', or
     * the refusal's code; 'no-form' when the page offers no decision (it no longer waits for us).
     */
    async decide(id, verdict, target) {
      const page = await send('GET', `/approvals/${id}`, { target });
      if (page.status !== 200) return { status: page.status, code: `page ${page.status}`, uncertain: false };
      const csrf = DECISION_FORM.exec(page.body)?.[1];
      if (!csrf) return { status: 409, code: 'no-form', uncertain: false };
      const answer = await send('POST', `/approvals/${id}/decisions`, {
        form: { _csrf: csrf, verdict },
        target,
        accept: 'application/json',
      });
      if (answer.status === 303) return { status: 303, code: 'ok', uncertain: answer.uncertain };
      let code = `HTTP ${answer.status}`;
      try {
        code = JSON.parse(answer.body).error.code;
      } catch {}
      return { status: answer.status, code, uncertain: answer.uncertain };
    },
  };
}
