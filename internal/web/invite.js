"use strict";
(function () {
  const token = new URLSearchParams(location.search).get("token");
  const $ = (id) => document.getElementById(id);
  // Take the token out of the address bar and history at once.
  history.replaceState(null, "", location.pathname);
  function fail(message) {
    $("error").textContent = message;
    $("error").hidden = false;
  }
  function busy(b) {
    $("accept").disabled = b;
    $("decline").disabled = b;
  }
  if (!token) {
    busy(true);
    fail("This link has no token. Ask whoever invited you to resend the invitation.");
    return;
  }
  // Nothing is sent until a click: mail scanners open links, and an answer
  // is final.
  async function call(query) {
    busy(true);
    $("error").hidden = true;
    try {
      const res = await fetch("/graphql", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ query: query, variables: { t: token } }),
      });
      const body = await res.json();
      if (body.errors && body.errors.length) {
        fail(body.errors[0].message + " (" + ((body.errors[0].extensions || {}).code || "error") + ")");
        busy(false);
        return null;
      }
      $("intro").hidden = true;
      $("actions").hidden = true;
      return body.data;
    } catch (e) {
      fail("Could not reach the server: " + e.message);
      busy(false);
      return null;
    }
  }
  $("accept").addEventListener("click", async () => {
    const data = await call("mutation($t: String!) { acceptInvitation(token: $t) { accessToken refreshToken user { email } } }");
    if (!data) {
      return;
    }
    const p = data.acceptInvitation;
    const headers = JSON.stringify({ Authorization: "Bearer " + p.accessToken }, null, 2);
    $("email").textContent = p.user.email;
    $("headers").value = headers;
    $("refresh").textContent = p.refreshToken;
    $("done").hidden = false;
    $("playground").addEventListener("click", () => {
      localStorage.setItem("quire:graphiql:headers", headers);
      localStorage.removeItem("quire:graphiql:tabState");
      location.href = "/";
    });
  });
  $("decline").addEventListener("click", async () => {
    if (await call("mutation($t: String!) { declineInvitation(token: $t) }")) {
      $("declined").hidden = false;
    }
  });
})();
