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
  if (!token) {
    $("signin").disabled = true;
    fail("This link has no token. Ask for a new one with requestLoginLink.");
    return;
  }
  $("signin").addEventListener("click", async () => {
    $("signin").disabled = true;
    $("error").hidden = true;
    try {
      const res = await fetch("/graphql", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          query: "mutation($t: String!) { signInWithLink(token: $t) { accessToken refreshToken user { email } } }",
          variables: { t: token },
        }),
      });
      const body = await res.json();
      if (body.errors && body.errors.length) {
        fail(body.errors[0].message + " (" + ((body.errors[0].extensions || {}).code || "error") + ")");
        return;
      }
      const p = body.data.signInWithLink;
      const headers = JSON.stringify({ Authorization: "Bearer " + p.accessToken }, null, 2);
      $("email").textContent = p.user.email;
      $("headers").value = headers;
      $("refresh").textContent = p.refreshToken;
      $("intro").hidden = true;
      $("signin").hidden = true;
      $("done").hidden = false;
      $("playground").addEventListener("click", () => {
        localStorage.setItem("quire:graphiql:headers", headers);
        localStorage.removeItem("quire:graphiql:tabState");
        location.href = "/";
      });
    } catch (e) {
      fail("Could not reach the server: " + e.message);
      $("signin").disabled = false;
    }
  });
})();
