// Who a token signs in as, and what a sign-in link may do to the account the page is signed in to.
//
// The page only reads the token's claims to show and compare accounts; the server checks the
// signature on every request. A link (`#token=...`) carrying the same user's token replaces the
// stored one silently (a fresh token); one of another user must not switch accounts behind the
// person's back: the page asks first ("ask").

// The claims of a JWT's payload ({sub, email, ...}), or null when it is not a readable JWT.
export function tokenClaims(token) {
  const parts = String(token ?? "").split(".");
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), "=")),
      (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    if (!claims || typeof claims !== "object" || typeof claims.sub !== "string" || !claims.sub) return null;
    return claims;
  } catch {
    return null;
  }
}

// An e-mail claim worth showing: one address of sensible length, no control characters or
// spaces (the server ignores any other, so the page must not show it either).
const EMAIL = /^[^\s@\u0000-\u001f\u007f-\u009f]+@[^\s@\u0000-\u001f\u007f-\u009f]+$/u;

// The name of the account a token signs in as: its e-mail, or its user id when it has none.
export function accountName(claims) {
  if (!claims) return "";
  const email = claims.email;
  if (typeof email === "string" && email.length >= 3 && email.length <= 254 && EMAIL.test(email)) return email;
  return claims.sub;
}

// What a link's token does, given the token the page holds:
// "use" (nobody is signed in, or the same user: take it silently) or "ask" (another user).
// A token that cannot be read counts as another user's: a link must not sign someone out silently.
export function linkDecision(currentToken, linkToken) {
  if (!currentToken || currentToken === linkToken) return "use";
  const current = tokenClaims(currentToken);
  if (!current) return "use"; // what the page holds is no account at all: nothing to lose
  const incoming = tokenClaims(linkToken);
  return incoming && incoming.sub === current.sub ? "use" : "ask";
}
