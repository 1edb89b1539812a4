// Drafts and pending submissions, kept in localStorage so a reload or crash loses nothing.
// Only the worker's answer is stored (plus the submission id): never the item, names or e-mail.

const PREFIX = "datadam:draft:";
const MAX_AGE_MS = 14 * 24 * 3600 * 1000;

function key(assignmentId) {
  return PREFIX + String(assignmentId);
}

/** The stored record for an assignment: {values, csid?, pending?, saved} or null. */
export function loadDraft(assignmentId) {
  try {
    const raw = window.localStorage.getItem(key(assignmentId));
    if (!raw) return null;
    const record = JSON.parse(raw);
    return record && typeof record === "object" && record.values ? record : null;
  } catch {
    return null;
  }
}

/** Store the record; false when the browser refuses (private mode, quota). */
export function saveDraft(assignmentId, record) {
  try {
    window.localStorage.setItem(key(assignmentId), JSON.stringify({ ...record, saved: Date.now() }));
    return true;
  } catch {
    return false;
  }
}

export function clearDraft(assignmentId) {
  try {
    window.localStorage.removeItem(key(assignmentId));
  } catch {
    /* storage unavailable: nothing to clear */
  }
}

/** Forget drafts older than two weeks (their leases are long gone). */
export function pruneDrafts(now = Date.now()) {
  try {
    for (let i = window.localStorage.length - 1; i >= 0; i -= 1) {
      const name = window.localStorage.key(i);
      if (!name || !name.startsWith(PREFIX)) continue;
      let saved = 0;
      try {
        saved = JSON.parse(window.localStorage.getItem(name)).saved || 0;
      } catch {
        saved = 0;
      }
      if (now - saved > MAX_AGE_MS) window.localStorage.removeItem(name);
    }
  } catch {
    /* storage unavailable */
  }
}

/** A random submission id (works on plain HTTP too, where randomUUID is missing). */
export function newSubmissionId() {
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
