// Loaded on every page. No inline scripts anywhere: the CSP allows only files from /static.

/** The session's CSRF token, from <meta name="csrf-token">. */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") || "" : "";
}

/** fetch() for our JSON API: same-origin cookies, CSRF header, JSON body. */
export function apiFetch(url, { method = "POST", body, signal } = {}) {
  const headers = { "X-CSRF-Token": csrfToken(), Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(url, init);
}

// htmx: every request it sends carries the CSRF token.
document.addEventListener("htmx:configRequest", (event) => {
  event.detail.headers["X-CSRF-Token"] = csrfToken();
});

/** Show <time datetime> values in the reader's own time zone and language. */
export function localiseTimes(root = document) {
  const lang = document.documentElement.lang || undefined;
  const format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  for (const el of root.querySelectorAll("time[datetime][data-local]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) el.textContent = format.format(when);
  }
}

localiseTimes();
document.addEventListener("htmx:afterSwap", (event) => localiseTimes(event.target));

// The account menu closes with Escape and when focus leaves it.
for (const menu of document.querySelectorAll("details.user-menu")) {
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  menu.addEventListener("focusout", (event) => {
    if (!menu.contains(event.relatedTarget)) menu.open = false;
  });
}
